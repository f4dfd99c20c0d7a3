"""Small files that declare large contents are refused before anything large is allocated.

Each hostile file is crafted here (a few hundred KB at most); the load runs in a subprocess whose
peak resident memory growth is measured with ``resource.getrusage``, and must stay under
`MAX_GROWTH_MB` while the error says what the file declares.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch

resource = pytest.importorskip("resource")  # POSIX only

ROOT = pathlib.Path(__file__).parents[2]
MAX_GROWTH_MB = 100
CHUNK = bytes(1 << 20)


def deflated_zeros(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """Add member ``name``: ``size`` zero bytes, deflated (about 1000 to 1), written in chunks."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        for _ in range(size // len(CHUNK)):
            member.write(CHUNK)


def load_in_subprocess(code: str) -> dict:
    """Run ``code`` (which sets ``error``) in a fresh interpreter; its error and peak RSS growth (MB)."""
    script = textwrap.dedent(
        """
        import json, resource, sys
        import torch
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        error = None
        try:
        {code}
        except Exception as caught:
            error = f"{{type(caught).__name__}}: {{caught}}"
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({{"error": error, "growth_mb": growth}}))
        """
    ).format(code=textwrap.indent(textwrap.dedent(code), "    "))
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_sb3_zip_whose_policy_deflates_to_512_mb(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", "{}")
        deflated_zeros(archive, "policy.pth", 512 << 20)
    assert path.stat().st_size < 600_000
    outcome = load_in_subprocess(
        f"""
        from rlblocks.utils.migration.sources import read_source
        read_source(None, {str(path)!r})
        """
    )
    assert outcome["error"] is not None and "'policy.pth' declares 536870912 bytes" in outcome["error"]
    assert "zip bomb" in outcome["error"]
    assert outcome["growth_mb"] < MAX_GROWTH_MB


def torch_file_with_deflated_storage(path: pathlib.Path, size: int) -> None:
    """A torch zip file whose one storage declares ``size`` bytes, stored deflated (zeros)."""
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(4, dtype=torch.uint8)}, buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"cpuq\x06K\x04", b"cpuq\x06J" + struct.pack("<i", size))
                assert struct.pack("<i", size) in data
            if info.filename.endswith("/data/0"):
                deflated_zeros(archive, info.filename, size)
            else:
                archive.writestr(info, data)


def test_a_torch_file_whose_storage_deflates_to_256_mb(tmp_path):
    path = tmp_path / "model.pt"
    torch_file_with_deflated_storage(path, 256 << 20)
    assert path.stat().st_size < 300_000
    outcome = load_in_subprocess(
        f"""
        from rlblocks.utils.checkpoint import safe_load
        safe_load({str(path)!r})
        """
    )
    assert outcome["error"] is not None and "declares 268435456 bytes" in outcome["error"], outcome
    assert outcome["growth_mb"] < MAX_GROWTH_MB


def test_a_small_memory_file_declaring_a_13_gb_tensor(tmp_path):
    path = tmp_path / "memory.pt"
    torch.save({"states": torch.zeros(4, 2, 3), "extra": torch.zeros(1).expand(4, 2, 400_000_000)}, path)
    assert path.stat().st_size < 2500
    outcome = load_in_subprocess(
        f"""
        from rlblocks.memories.torch import RandomMemory
        memory = RandomMemory(memory_size=4, num_envs=2)
        memory.create_tensor("states", 3)
        memory.load({str(path)!r})
        """
    )
    assert outcome["error"] is not None, outcome
    assert (
        "'extra' declares shape (4, 2, 400000000) (12800000000 bytes) but stores 4 bytes" in outcome["error"]
    )
    assert outcome["growth_mb"] < MAX_GROWTH_MB


def test_a_small_npz_memory_whose_header_declares_a_13_gb_array(tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": (4, 2, 400_000_000)}
    )
    path = tmp_path / "memory.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("states.npy", buffer.getvalue() + bytes(96))
    outcome = load_in_subprocess(
        f"""
        from rlblocks.memories.torch import RandomMemory
        RandomMemory(memory_size=4, num_envs=2).load({str(path)!r})
        """
    )
    assert outcome["error"] is not None and "memory.npz" in outcome["error"], outcome
    assert "declares an array of shape (4, 2, 400000000)" in outcome["error"]
    assert outcome["growth_mb"] < MAX_GROWTH_MB


def test_a_small_npz_memory_whose_array_deflates_past_the_bound(tmp_path):
    path = tmp_path / "memory.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (4, 2, 8 << 20)}
    )
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("states.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(256):
                member.write(CHUNK)
    outcome = load_in_subprocess(
        f"""
        from rlblocks.memories.torch import RandomMemory
        RandomMemory(memory_size=4, num_envs=2).load({str(path)!r})
        """
    )
    assert outcome["error"] is not None and "zip bomb" in outcome["error"], outcome
    assert outcome["growth_mb"] < MAX_GROWTH_MB


def test_a_yaml_config_of_nested_aliases(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdef", "bcdefg"):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    lines.append("agent: {rollouts: *g}")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 500
    outcome = load_in_subprocess(
        f"""
        from rlblocks.cli import config
        config.resolve(config_file={str(path)!r})
        """
    )
    assert outcome["error"] is not None and "aliases (*a) are not accepted" in outcome["error"]
    assert len(outcome["error"]) < 500
    assert outcome["growth_mb"] < MAX_GROWTH_MB
