"""`rlblocks train --resume` of an off-policy run samples from the buffer it had; opening a run
directory (resume, eval) removes the temporary files a killed write left, and nothing else."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from tests.cli.test_cli import rlblocks
from tests.reliability.test_resume_config import SMALL_DQN


def train_small(workdir, config_text):
    (workdir / "small.yaml").write_text(config_text)
    rlblocks("train", "--config", "small.yaml", "--run-dir", "run", "--no-progress", cwd=workdir)
    return workdir / "run"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A DQN CartPole run of 300 timesteps on one env, a 400-step buffer, checkpoints every 100."""
    return train_small(tmp_path_factory.mktemp("cli_resume"), SMALL_DQN)


def replay_head(path):
    (memory,) = torch.load(path, weights_only=True)["memories"]
    return memory["memory_index"], memory["filled"]


def test_resume_restores_the_replay_memory(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    checkpoints = copy / "checkpoints"
    assert [name for name in os.listdir(checkpoints) if name.startswith("replay")] == ["replay_memory_300.pt"]
    assert replay_head(checkpoints / "replay_memory_300.pt") == (300, False)
    result = rlblocks("train", "--resume", str(copy), "--timesteps", "350", "--no-progress", cwd=tmp_path)
    assert "resumed at 300" in result.stdout and "replay memory" not in result.stdout + result.stderr
    # 300 restored transitions + 50 new ones: the resumed run wrote on after the restored buffer
    assert [name for name in os.listdir(checkpoints) if name.startswith("replay")] == ["replay_memory_350.pt"]
    assert replay_head(checkpoints / "replay_memory_350.pt") == (350, False)


def test_without_checkpoint_memory_the_resume_says_so(tmp_path):
    config = SMALL_DQN.replace(
        "{checkpoint_interval: 100}", "{checkpoint_interval: 100, checkpoint_memory: false}"
    )
    run = train_small(tmp_path, config)
    assert not any(name.startswith("replay") for name in os.listdir(run / "checkpoints"))
    result = rlblocks("train", "--resume", str(run), "--timesteps", "310", "--no-progress", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "saved without its replay memory (experiment.checkpoint_memory: False)" in output
    assert "updates wait learning_starts=50 new steps (until timestep 350)" in output


@pytest.mark.parametrize("command", ["resume", "eval"])
def test_opening_a_run_removes_orphan_temporaries_only(run, tmp_path, command):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    checkpoints = copy / "checkpoints"
    orphans = [copy / ".tmp-rlblocks-9999999-abcdefgh.tmp", checkpoints / ".tmp-rlblocks-9999999-x1y2z3_q.pt"]
    others = [copy / ".tmp-notes.txt", checkpoints / ".tmp-rlblocks-keep.pt", checkpoints / "mine.pt"]
    for path in orphans + others:
        path.write_bytes(b"x")
    if command == "resume":
        rlblocks("train", "--resume", str(copy), "--timesteps", "301", "--no-progress", cwd=tmp_path)
    else:
        rlblocks("eval", str(copy), "--episodes", "1", cwd=tmp_path)
    assert not any(path.exists() for path in orphans)
    assert all(path.exists() for path in others)
