"""The `rlblocks` command end to end, in subprocesses, on tiny budgets.

train -> eval -> export (parity checked by the command) -> plot -> resume; migrate a fixture -> eval
-> export; and every error a person should be able to act on.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from rlblocks.cli import registry

DATA = pathlib.Path(__file__).parents[1] / "data" / "checkpoints"
ROOT = pathlib.Path(__file__).parents[2]


def rlblocks(*args: str, cwd: pathlib.Path, expect: int = 0) -> subprocess.CompletedProcess:
    """Run ``python -m rlblocks ARGS`` and check its exit status."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "rlblocks", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == expect, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def trained(workdir) -> pathlib.Path:
    """A PPO CartPole run of 600 timesteps x 4 envs (the default config, smaller)."""
    run = workdir / "run"
    result = rlblocks(
        "train", "--timesteps", "600", "--num-envs", "4", "--run-dir", str(run), "--no-progress", cwd=workdir
    )
    assert "rlblocks train: done" in result.stdout
    assert str(run / "curve.png") in result.stdout
    return run


def test_train_writes_a_complete_run_directory(trained):
    names = set(os.listdir(trained))
    assert {"config.yaml", "checkpoints", "curve.png"} <= names
    assert any(name.startswith("events.out.tfevents") for name in names)
    checkpoints = set(os.listdir(trained / "checkpoints"))
    assert {"agent_600.pt", "best_agent.pt"} <= checkpoints
    config = (trained / "config.yaml").read_text()
    for line in (
        "algo: ppo",
        "env: CartPole-v1",
        "kind: categorical",
        "state_preprocessor: RunningStandardScaler",
    ):
        assert line in config


def test_eval_reports_mean_and_std_of_the_deterministic_policy(trained, workdir):
    result = rlblocks("eval", str(trained), "--episodes", "2", cwd=workdir)
    match = re.search(r"return:\s+(-?[\d.]+) ± ([\d.]+)", result.stdout)
    assert match, result.stdout
    assert float(match.group(1)) > 0 and "2 (deterministic policy)" in result.stdout


def test_eval_records_gifs(trained, workdir):
    videos = workdir / "videos"
    rlblocks(
        "eval", str(trained), "--episodes", "1", "--render", "rgb_array", "--video", str(videos), cwd=workdir
    )
    (gif,) = videos.iterdir()
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames > 1


@pytest.mark.filterwarnings("ignore:`torch.jit")  # TorchScript is deprecated in torch 2.13, still works
@pytest.mark.parametrize("export_format", ["torchscript", "onnx"])
def test_export_checks_parity_and_runs_on_raw_observations(trained, workdir, export_format):
    output = workdir / f"policy_{export_format}"
    result = rlblocks(
        "export", str(trained / "checkpoints" / "best_agent.pt"), "--format", export_format,
        "--output", str(output), cwd=workdir,
    )  # fmt: skip
    assert "outputs match the eager policy" in result.stdout
    observations = np.array([[0.01, -0.02, 0.03, 0.04], [0.0, 0.5, -0.1, -0.5]], dtype=np.float32)
    if export_format == "torchscript":
        actions = torch.jit.load(str(output))(torch.from_numpy(observations)).numpy()
    else:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
        (actions,) = session.run(None, {"observations": observations})
    assert actions.shape == (2, 1) and set(actions.ravel().tolist()) <= {0, 1}


def test_plot_draws_a_band_over_runs_of_one_config(trained, workdir):
    copy = workdir / "run_copy"
    shutil.copytree(trained, copy, dirs_exist_ok=True)
    output = workdir / "curves.png"
    result = rlblocks("plot", str(trained), str(copy), "--output", str(output), cwd=workdir)
    assert str(output) in result.stdout
    with Image.open(output) as image:
        assert image.format == "PNG" and image.size == (800, 500)


def test_resume_continues_from_the_latest_checkpoint(trained, workdir):
    resumed = workdir / "resumed"
    shutil.copytree(trained, resumed)
    result = rlblocks("train", "--resume", str(resumed), "--timesteps", "700", "--no-progress", cwd=workdir)
    assert "resumed at 600" in result.stdout and "400 env steps this run" in result.stdout
    checkpoint = torch.load(resumed / "checkpoints" / "agent_700.pt", weights_only=True)
    assert checkpoint["_rlblocks"]["timestep"] == 700
    assert "timesteps: 700" in (resumed / "config.yaml").read_text()
    assert len([name for name in os.listdir(resumed) if name.startswith("events.out")]) == 2  # same dir


def foreground_signals() -> None:
    """In the child: SIGINT as in a terminal's foreground job (a test run started in the background
    by a non-interactive shell, e.g. ``make test &``, would pass SIGINT on ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("stop_signal", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_saves_a_checkpoint_and_resume_continues_from_it(workdir, stop_signal, status):
    """SIGTERM (a container stop, a preemption) is handled like Ctrl-C, with exit status 128 + 15."""
    run = workdir / f"interrupted_{stop_signal}"
    config = workdir / "often.yaml"
    config.write_text("agent:\n  experiment: {checkpoint_interval: 50}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "rlblocks", "train", "--timesteps", "100000", "--config", str(config),
         "--run-dir", str(run), "--no-progress"],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=foreground_signals,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (run / "checkpoints" / "agent_50.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # training is under way once the first checkpoint is written
    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == status, stdout + stderr
    assert f"continue with --resume {run}" in stdout
    stopped_at = int(re.search(r"at timestep ([\d,]+)", stdout).group(1).replace(",", ""))
    assert (run / "checkpoints" / f"agent_{stopped_at}.pt").is_file()
    result = rlblocks(
        "train", "--resume", str(run), "--timesteps", str(stopped_at + 10), "--no-progress", cwd=workdir
    )
    assert f"resumed at {stopped_at:,}" in result.stdout


@pytest.mark.parametrize(
    ("fixture", "source"),
    [("sb3_ppo_cartpole.zip", "stable-baselines3 PPO"), ("rlg_ppo_continuous_pendulum.pth", "rl_games PPO")],
)
def test_migrate_fixture_then_eval_and_export(workdir, fixture, source):
    run = workdir / f"migrated_{fixture}"
    result = rlblocks("migrate", str(DATA / fixture), "--run-dir", str(run), cwd=workdir)
    assert f"migrated {source}" in result.stdout
    assert (run / "checkpoints" / "agent_0.pt").is_file()
    result = rlblocks("eval", str(run), "--episodes", "1", cwd=workdir)
    assert re.search(r"return:\s+-?[\d.]+ ±", result.stdout)
    result = rlblocks("export", str(run), "--format", "onnx", cwd=workdir)  # with rl_games' normalisation
    assert "outputs match the eager policy" in result.stdout


# ------------------------------------------------------------------------------ errors
def test_unknown_algorithm_lists_the_close_ones(workdir):
    result = rlblocks("train", "--algo", "ppx", cwd=workdir, expect=2)
    assert "unknown algorithm 'ppx' (did you mean \"ppo\"?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_env_lists_the_close_ones(workdir):
    result = rlblocks("train", "--env", "CartPole-v2", cwd=workdir, expect=2)
    assert "unknown gymnasium environment id 'CartPole-v2'; close ones: CartPole-v1" in result.stderr


def test_algorithm_that_does_not_fit_the_action_space(workdir):
    if "dqn" not in registry.available_algorithms():
        pytest.skip("no DQN agent in this installation")
    result = rlblocks("train", "--algo", "dqn", "--env", "Pendulum-v1", cwd=workdir, expect=2)
    assert "DQN needs a Discrete action space; CartPole-v1 fits, Pendulum-v1 does not" in result.stderr


def test_missing_run_directory(workdir):
    result = rlblocks("eval", str(workdir / "no_such_run"), cwd=workdir, expect=2)
    assert "does not exist" in result.stderr
    result = rlblocks("train", "--resume", str(workdir / "no_such_run"), cwd=workdir, expect=2)
    assert "run directory" in result.stderr and "does not exist" in result.stderr


def test_corrupted_checkpoint(trained, workdir):
    broken = workdir / "broken"
    shutil.copytree(trained, broken)
    (broken / "checkpoints" / "best_agent.pt").write_bytes(b"not a checkpoint")
    result = rlblocks("eval", str(broken), cwd=workdir, expect=2)
    assert "best_agent.pt" in result.stderr and "corrupted" in result.stderr


def test_unknown_config_key_names_the_nearest(workdir):
    config = workdir / "typo.yaml"
    config.write_text("agent:\n  rollout: 32\n")
    result = rlblocks("train", "--config", str(config), "--timesteps", "10", cwd=workdir, expect=2)
    assert 'did you mean "rollouts"' in result.stderr
