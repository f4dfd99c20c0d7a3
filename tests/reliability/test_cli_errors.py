"""The CLI answers bad input and a full disk with one ``error:`` line and exit status 1 or 2.

Run in-process (typer's runner) so that a full disk can be simulated by making ``os.fsync`` fail
with ENOSPC for checkpoint files, and a missing wandb by hiding the module.
"""

from __future__ import annotations

import errno
import io
import os
import pathlib
import shutil
import sys
import zipfile

import pytest
import torch
from typer.testing import CliRunner

from rlblocks.cli import app

DATA = pathlib.Path(__file__).parents[1] / "data" / "checkpoints"
SMALL_RUN = ["--timesteps", "32", "--num-envs", "2", "--no-progress"]


@pytest.fixture(autouse=True)
def restore_torch_threads():
    threads = torch.get_num_threads()  # `train` sets one thread on CPU
    yield
    torch.set_num_threads(threads)


def run_cli(*args: str, cwd: pathlib.Path):
    """``rlblocks ARGS`` run in ``cwd``, in this process."""
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        os.chdir(previous)


def invoke(*args: str, cwd: pathlib.Path, expect: tuple[int, ...] = (1, 2)) -> str:
    """Run ``rlblocks ARGS`` in ``cwd``; return its one ``error:`` line (and check there is no traceback)."""
    result = run_cli(*args, cwd=cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in expect, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def sb3_zip(path: pathlib.Path, state_dict: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("policy.pth", buffer.getvalue())


def sb3_policy() -> dict:
    with zipfile.ZipFile(DATA / "sb3_ppo_cartpole.zip") as archive:
        return torch.load(io.BytesIO(archive.read("policy.pth")), weights_only=True)


@pytest.mark.parametrize("damage", ["missing head", "flattened"])
def test_migrate_of_a_damaged_sb3_zip(tmp_path, damage):
    # (a flipped byte or a truncated archive already gave one error line: CRC and zip checks)
    path = tmp_path / "model.zip"
    if damage == "missing head":
        sb3_zip(path, {name: value for name, value in sb3_policy().items() if name != "action_net.weight"})
    else:
        sb3_zip(path, {name: value.reshape(-1) for name, value in sb3_policy().items()})
    line = invoke("migrate", str(path), "--env", "CartPole-v1", "--run-dir", "run", cwd=tmp_path, expect=(2,))
    assert "model.zip" in line
    assert not (tmp_path / "run").exists()


def test_migrate_of_a_small_text_file(tmp_path):
    (tmp_path / "notes.txt").write_text("this is not a checkpoint\n")  # 25 bytes
    line = invoke("migrate", "notes.txt", "--env", "CartPole-v1", cwd=tmp_path, expect=(2,))
    assert "'notes.txt'" in line and "neither a zip archive" in line and "supported: " in line


def test_run_dir_that_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    line = invoke("train", *SMALL_RUN, "--run-dir", "taken", cwd=tmp_path, expect=(2,))
    assert "'taken' is a file, not a directory" in line
    shutil.copy(DATA / "sb3_ppo_cartpole.zip", tmp_path / "model.zip")
    line = invoke("migrate", "model.zip", "--env", "CartPole-v1", "--run-dir", "taken", cwd=tmp_path)
    assert "'taken' is a file, not a directory" in line


def test_negative_rollouts_are_refused_by_the_config_before_the_memory(tmp_path):
    (tmp_path / "bad.yaml").write_text("agent:\n  rollouts: -5\n")
    line = invoke("train", *SMALL_RUN, "--config", "bad.yaml", "--run-dir", "run", cwd=tmp_path, expect=(2,))
    assert line == 'error: agent: config key "rollouts" must be > 0, got -5'
    assert not (tmp_path / "run").exists()


def test_yaml_aliases_are_refused_with_a_short_line(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdef", "bcdefg"):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    (tmp_path / "laughs.yaml").write_text("\n".join(lines) + "\n")
    line = invoke("train", *SMALL_RUN, "--config", "laughs.yaml", cwd=tmp_path, expect=(2,))
    assert "aliases (*a) are not accepted" in line and len(line) < 300


@pytest.mark.parametrize("package", ["wandb", "mlflow"])
def test_a_logger_asked_for_but_not_installed(tmp_path, monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)  # `import wandb` raises ImportError
    (tmp_path / "logger.yaml").write_text(f"agent:\n  experiment:\n    {package}: true\n")
    line = invoke(
        "train", *SMALL_RUN, "--config", "logger.yaml", "--run-dir", "run", cwd=tmp_path, expect=(2,)
    )
    assert f"pip install {package}" in line
    assert not (tmp_path / "run").exists()


def fail_checkpoint_fsync(monkeypatch):
    """Make ``os.fsync`` of a checkpoint being written (a ``.pt`` file) fail as on a full disk."""
    real_fsync = os.fsync

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".pt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to name the file")
def test_full_disk_during_train_and_resume(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        fail_checkpoint_fsync(patch)
        line = invoke("train", *SMALL_RUN, "--run-dir", "full", cwd=tmp_path, expect=(1,))
    assert "No space left on device" in line and "full/checkpoints/agent_" in line
    assert "free some disk space" in line
    trained = run_cli("train", *SMALL_RUN, "--run-dir", "run", cwd=tmp_path)
    assert trained.exit_code == 0, trained.output
    fail_checkpoint_fsync(monkeypatch)
    line = invoke("train", "--resume", "run", "--timesteps", "64", "--no-progress", cwd=tmp_path, expect=(1,))
    assert "No space left on device" in line and "run/checkpoints/agent_" in line
