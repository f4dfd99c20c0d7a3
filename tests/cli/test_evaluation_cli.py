"""`rlblocks train` with evaluation during training, early stopping and a budget in env steps."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from rlblocks.agents.torch import tags
from rlblocks.cli.train import timesteps_for
from rlblocks.utils.checkpoint import safe_load
from tests.cli.test_cli import rlblocks


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("cli_evaluation")


def scalars(run: pathlib.Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run))
    events.Reload()
    return [(point.step, point.value) for point in events.Scalars(tag)]


def test_timesteps_for_an_env_steps_budget_rounds_up():
    assert timesteps_for(800, 4) == 200
    assert timesteps_for(802, 4) == 201
    assert timesteps_for(1, 8) == 1


def test_env_steps_and_evaluation_during_training(workdir):
    run = workdir / "evaluated"
    result = rlblocks(
        "train", "--env-steps", "802", "--num-envs", "4", "--eval-interval", "100", "--eval-episodes", "2",
        "--run-dir", str(run), "--no-progress", cwd=workdir,
    )  # fmt: skip
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert (config["timesteps"], config["eval_interval"], config["eval_episodes"]) == (201, 100, 2)
    points = scalars(run, tags.EVAL_MEAN_RETURN)
    assert [step for step, _ in points] == [400, 800, 804]  # env steps: timesteps 100, 200, 201 x 4 envs
    best = safe_load(str(run / "checkpoints" / "best_agent.pt"))
    assert best["_rlblocks"]["best_return"] == pytest.approx(max(value for _, value in points))
    assert "best mean return" in result.stdout and "over 3 evaluations" in result.stdout
    evaluated = rlblocks("eval", str(run), "--episodes", "2", cwd=workdir)
    assert "best_agent.pt" in evaluated.stdout


def test_stop_at_return_stops_early_and_says_why(workdir):
    run = workdir / "stopped"
    result = rlblocks(
        "train", "--timesteps", "1000", "--num-envs", "2", "--stop-at-return", "1", "--eval-episodes", "1",
        "--run-dir", str(run), "--no-progress", cwd=workdir,
    )  # fmt: skip
    # no --eval-interval: 20 evaluations per run, so the first is at 50; a CartPole return is >= 8
    assert yaml.safe_load((run / "config.yaml").read_text())["eval_interval"] == 50
    assert "stopped early" in result.stdout and ">= stop_at_return 1.0" in result.stdout
    assert sorted(path.name for path in (run / "checkpoints").glob("agent_*.pt")) == ["agent_50.pt"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--env-steps", "10", "--timesteps", "5"], "--env-steps 10 and --timesteps 5 both set the budget"),
        (["--env-steps", "0"], "--env-steps must be a positive integer, got 0"),
        (["--eval-episodes", "0"], 'run config key "eval_episodes" must be an int >= 1, got 0'),
    ],
)
def test_bad_budget_or_evaluation_options_write_nothing(workdir, options, message):
    run = workdir / f"refused{len(options)}{options[1]}"
    result = rlblocks("train", *options, "--run-dir", str(run), cwd=workdir, expect=2)
    assert message in result.stderr
    assert not run.exists()
