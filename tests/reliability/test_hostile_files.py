"""Hostile files through every load path: nothing runs, and the message names what was refused.

Each payload would run ``os.system("touch <marker>")`` if unpickled; every load path must refuse
it, name the object (``posix.system``), say it could run code, and never pass on torch's advice
that re-running with ``weights_only=False`` "will likely succeed" (the one action that runs it).
"""

from __future__ import annotations

import io
import os
import pathlib
import pickle
import shutil
import subprocess
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.memories.torch import RandomMemory
from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.migration import load_normalization
from tests.cli.test_cli import rlblocks
from tests.helpers.models import CategoricalPolicy
from tests.helpers.off_policy import make_agent

ROOT = pathlib.Path(__file__).parents[2]
DATA = ROOT / "tests" / "data" / "checkpoints"
CARTPOLE = (gym.spaces.Box(-1.0, 1.0, (4,)), gym.spaces.Discrete(2))
SYSTEM = os.system.__module__ + ".system"  # "posix.system" on Linux and macOS, "nt.system" on Windows


class RunsCommand:
    """Unpickling this runs ``os.system("touch <marker>")``."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def payload_bytes(marker: pathlib.Path, kind: str) -> bytes:
    """The payload as a torch file ("torch"), a legacy torch file, or a raw pickle of a protocol."""
    content = {"weight": torch.zeros(2), "payload": RunsCommand(marker)}
    if kind in ("torch", "legacy"):
        buffer = io.BytesIO()
        torch.save(content, buffer, _use_new_zipfile_serialization=kind == "torch")
        return buffer.getvalue()
    return pickle.dumps({"payload": RunsCommand(marker)}, protocol=int(kind.removeprefix("protocol")))


KINDS = ("torch", "legacy", "protocol0", "protocol2", "protocol5")


def assert_refused(error: BaseException, path: str | os.PathLike, marker: pathlib.Path) -> None:
    message = str(error)
    assert f"refused to load {str(path)!r}"[:-1] in message, message
    assert f"it holds {SYSTEM}" in message and "could run code" in message, message
    assert "weights_only=False" not in message and "will likely succeed" not in message, message
    assert "corrupted" not in message, message
    assert len(message) < 1000
    assert not marker.exists()


def load_into_a_model(path: str) -> None:
    CategoricalPolicy(*CARTPOLE, hidden=(4,)).load(path)


def load_into_an_agent(path: str) -> None:
    make_agent("dqn", memory_size=0)[0].load(path)


def migrate_into_a_model(path: str) -> None:
    CategoricalPolicy(*CARTPOLE, hidden=(4,)).migrate(path=path)


@pytest.mark.parametrize("load", [load_into_a_model, load_into_an_agent, migrate_into_a_model])
@pytest.mark.parametrize("kind", KINDS)
def test_model_agent_and_migrate_loads_refuse_a_payload_and_name_it(tmp_path, kind, load):
    marker, path = tmp_path / "marker", tmp_path / "file.pt"
    path.write_bytes(payload_bytes(marker, kind))
    with pytest.raises(CheckpointError) as caught:
        load(str(path))
    assert_refused(caught.value, path, marker)


def test_migrate_of_an_sb3_zip_refuses_a_payload_in_its_policy(tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("policy.pth", payload_bytes(marker, "torch"))
    with pytest.raises(CheckpointError) as caught:
        CategoricalPolicy(*CARTPOLE, hidden=(4,)).migrate(path=str(path))
    assert_refused(caught.value, f"{path}:policy.pth", marker)


def test_migrate_of_an_rl_games_file_refuses_a_payload(tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "rl_games.pth"
    content = torch.load(DATA / "rlg_ppo_discrete_cartpole.pth", weights_only=False)
    content["payload"] = RunsCommand(marker)
    torch.save(content, path)
    with pytest.raises(CheckpointError) as caught:
        CategoricalPolicy(*CARTPOLE, hidden=(4,)).migrate(path=str(path))
    assert_refused(caught.value, path, marker)


@pytest.mark.parametrize("kind", ["torch", "legacy", "protocol2"])
def test_memory_load_refuses_a_payload(tmp_path, kind):
    marker, path = tmp_path / "marker", tmp_path / "memory.pt"
    path.write_bytes(payload_bytes(marker, kind))
    with pytest.raises(CheckpointError) as caught:
        RandomMemory(memory_size=4, num_envs=1).load(str(path))
    assert_refused(caught.value, path, marker)


def test_memory_load_of_an_npz_with_pickled_objects_says_why(tmp_path):
    path = tmp_path / "memory.npz"
    np.savez(path, states=np.array([RunsCommand(tmp_path / "marker")], dtype=object))
    with pytest.raises(CheckpointError, match=r"refused to load .*memory.npz.*Python objects.*run code"):
        RandomMemory(memory_size=4, num_envs=1).load(str(path))
    assert not (tmp_path / "marker").exists()


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_vec_normalize_pickle_with_a_payload_is_refused_by_name(tmp_path, protocol):
    marker, path = tmp_path / "marker", tmp_path / "vec_normalize.pkl"
    path.write_bytes(pickle.dumps({"VecNormalize": RunsCommand(marker)}, protocol=protocol))
    with pytest.raises(CheckpointError) as caught:
        load_normalization(path=str(path))
    assert_refused(caught.value, path, marker)


# ------------------------------------------------------------------------ CLI
def assert_one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_cli_migrate_eval_and_export_refuse_a_payload(tmp_path):
    marker = tmp_path / "marker"
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("policy.pth", payload_bytes(marker, "torch"))
    result = rlblocks("migrate", "evil.zip", "--env", "CartPole-v1", cwd=tmp_path, expect=2)
    line = assert_one_error_line(result)
    assert f"it holds {SYSTEM}" in line and "weights_only=False" not in line

    shutil.copy(DATA / "sb3_ppo_cartpole.zip", tmp_path / "good.zip")
    rlblocks("migrate", "good.zip", "--env", "CartPole-v1", "--run-dir", "run", cwd=tmp_path)
    (tmp_path / "run" / "checkpoints" / "agent_0.pt").write_bytes(payload_bytes(marker, "torch"))
    for command in (["eval", "run", "--episodes", "1"], ["export", "run"]):
        line = assert_one_error_line(rlblocks(*command, cwd=tmp_path, expect=2))
        assert f"it holds {SYSTEM}" in line and "could run code" in line, line
        assert "weights_only=False" not in line and "will likely succeed" not in line
    assert not marker.exists()
