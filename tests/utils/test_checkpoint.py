"""Checkpoint files: atomic writes, and reads that never run code from the file."""

import os
import pickle

import pytest
import torch

from rlblocks.utils.checkpoint import CheckpointError, atomic_save, safe_load


class CreatesMarker:
    """Unpickling this object would create the file `path` (what a malicious checkpoint would do)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this")


def test_safe_load_reads_back_what_atomic_save_wrote(tmp_path):
    path = tmp_path / "nested" / "dir" / "ckpt.pt"
    atomic_save({"weight": torch.arange(3.0), "meta": {"timestep": 7, "names": ["a"]}}, path)
    content = safe_load(path)
    assert torch.equal(content["weight"], torch.arange(3.0))
    assert content["meta"] == {"timestep": 7, "names": ["a"]}


def test_atomic_save_failure_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    atomic_save({"weight": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="cannot pickle this"):
        atomic_save({"weight": torch.zeros(2), "bad": Unpicklable()}, path)
    assert torch.equal(safe_load(path)["weight"], torch.ones(2))
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_atomic_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    atomic_save({"step": 1}, path)
    atomic_save({"step": 2}, path)
    assert safe_load(path) == {"step": 2}


def test_safe_load_maps_tensors_to_the_requested_device(tmp_path):
    atomic_save({"weight": torch.ones(2)}, tmp_path / "ckpt.pt")
    assert safe_load(tmp_path / "ckpt.pt", map_location=torch.device("cpu"))["weight"].device.type == "cpu"


def test_safe_load_refuses_a_torch_file_whose_unpickling_would_run_code(tmp_path):
    marker = tmp_path / "marker"
    torch.save({"weight": torch.ones(2), "payload": CreatesMarker(marker)}, tmp_path / "evil.pt")
    with pytest.raises(
        CheckpointError, match=r"refused to load .*evil.pt.*: it holds io.open, .*could run code"
    ):
        safe_load(tmp_path / "evil.pt")
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_safe_load_refuses_a_plain_malicious_pickle(tmp_path, protocol):
    marker = tmp_path / "marker"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(CreatesMarker(marker), protocol=protocol))
    with pytest.raises(CheckpointError, match=r"refused to load .*evil.pkl.*could run code from the file"):
        safe_load(tmp_path / "evil.pkl")
    assert not marker.exists()


def test_safe_load_of_a_truncated_file_says_it_is_corrupted(tmp_path):
    atomic_save({"weight": torch.ones(100)}, tmp_path / "ckpt.pt")
    data = (tmp_path / "ckpt.pt").read_bytes()
    (tmp_path / "ckpt.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"is not a readable torch checkpoint \(corrupted, truncated"):
        safe_load(tmp_path / "ckpt.pt")


@pytest.mark.parametrize(
    "content", [b"", b"hello world", bytes(range(7, 200))], ids=["empty", "text", "garbage"]
)
def test_safe_load_of_a_file_that_is_not_a_checkpoint_says_so(tmp_path, content):
    (tmp_path / "ckpt.pt").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"ckpt.pt' is not a readable torch checkpoint"):
        safe_load(tmp_path / "ckpt.pt")


def test_safe_load_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(CheckpointError, match=r"absent.pt' does not exist"):
        safe_load(tmp_path / "absent.pt")


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


def test_atomic_write_text_failure_leaves_the_old_text_and_no_temporary_file(tmp_path):
    from rlblocks.utils.checkpoint import atomic_write, atomic_write_text

    path = tmp_path / "config.yaml"
    atomic_write_text(path, "rollouts: 16\n")

    def fail_midway(stream):
        stream.write(b"rollo")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, fail_midway)
    assert path.read_text() == "rollouts: 16\n"
    assert os.listdir(tmp_path) == ["config.yaml"]


def test_atomic_writes_respect_the_umask(tmp_path):
    import os

    from rlblocks.utils.checkpoint import atomic_write_text

    previous = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
