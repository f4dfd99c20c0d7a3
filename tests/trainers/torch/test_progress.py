"""Progress in env steps: a tqdm bar on a terminal, plain periodic lines elsewhere, nothing if disabled."""

import sys

import pytest

from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.trainers.torch.progress import ProgressBar
from tests.trainers.torch.fake_agent import FakeAgent
from tests.trainers.torch.test_config import Stdout
from tests.trainers.torch.test_sequential import counter_envs


class ReportingAgent(FakeAgent):
    def __init__(self):
        super().__init__()
        self.recent_mean_return = 231.4
        self.last_written = {"Loss / Policy loss": -0.0123, "Reward / Total reward (mean)": 1.0}


def test_a_line_counts_env_steps_and_shows_rate_return_losses_and_eta(monkeypatch):
    monkeypatch.setattr(sys, "stdout", Stdout(False))
    progress = ProgressBar([ReportingAgent()], 0, 100, env_steps_per_timestep=8, line_seconds=3600)
    for _ in range(25):
        progress.update()
    start = progress._started
    line = progress.line(now=start + 2.0)  # 200 env steps in 2 s
    assert line == (
        "[rlblocks] 200/800 env steps (25%) | 100 env steps/s | mean return 231 | "
        "Loss / Policy loss -0.0123 | ETA 0:00:06"
    )


@pytest.mark.parametrize(
    "is_terminal, disable, expected",
    [
        (False, False, "lines"),
        (False, None, "lines"),
        (True, False, "bar"),
        (True, None, "bar"),
        (True, True, "none"),
        (False, True, "none"),
    ],
)
def test_auto_draws_the_bar_only_on_a_terminal(monkeypatch, is_terminal, disable, expected):
    monkeypatch.setattr(sys, "stdout", Stdout(is_terminal))
    assert ProgressBar([FakeAgent()], 0, 3, disable=disable).mode == expected


def test_trainer_off_a_terminal_prints_plain_lines_and_no_bar(monkeypatch, capsys):
    stdout = Stdout(False)
    monkeypatch.setattr(sys, "stdout", stdout)
    SequentialTrainer(counter_envs(2, 2), ReportingAgent(), cfg={"timesteps": 3, "headless": True}).train()
    captured = capsys.readouterr()
    assert "6/6 env steps (100%)" in stdout.getvalue()
    assert "\r" not in stdout.getvalue() and "env steps/s" not in captured.err


def test_lines_mode_prints_on_a_terminal_too_and_none_prints_nothing(monkeypatch, capsys):
    for mode, expected in (("lines", True), ("none", False)):
        stdout = Stdout(True)
        monkeypatch.setattr(sys, "stdout", stdout)
        cfg = {"timesteps": 3, "headless": True, "progress": mode}
        SequentialTrainer(counter_envs(2), ReportingAgent(), cfg=cfg).train()
        assert ("3/3 env steps" in stdout.getvalue()) is expected
        assert "env steps/s" not in capsys.readouterr().err


def test_the_bar_counts_env_steps(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", Stdout(True))
    SequentialTrainer(counter_envs(2, 2, 2), FakeAgent(), cfg={"timesteps": 4, "headless": True}).train()
    assert "12/12" in capsys.readouterr().err


def test_a_bad_mode_is_refused():
    with pytest.raises(ValueError, match=r'"progress" must be one of'):
        SequentialTrainer(counter_envs(2), FakeAgent(), cfg={"timesteps": 3, "progress": "fancy"})
