"""TrainerConfig: typed behind trainer.cfg, and disable_progressbar=None (hide it off a terminal)."""

import io
import sys

import pytest
from gymnasium.vector import SyncVectorEnv

from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import ManualTrainer, SequentialTrainer
from rlblocks.trainers.torch.config import TrainerConfig
from rlblocks.trainers.torch.progress import ProgressBar
from tests.helpers.envs import make_counter_env
from tests.trainers.torch.fake_agent import FakeAgent


class Stdout(io.StringIO):
    """A stdout whose `isatty` answers as told."""

    def __init__(self, is_terminal):
        super().__init__()
        self.is_terminal = is_terminal

    def isatty(self):
        return self.is_terminal


def counter_envs(num_envs):
    return wrap_env(SyncVectorEnv([make_counter_env(3)] * num_envs), verbose=False)


def test_trainer_cfg_is_the_typed_config_read_like_skrls_dict():
    trainer = SequentialTrainer(counter_envs(1), FakeAgent(), cfg={"timesteps": "20", "resume": True})
    assert isinstance(trainer.cfg, TrainerConfig)
    assert (
        trainer.cfg.timesteps == 20 and trainer.cfg["timesteps"] == 20 and trainer.cfg.get("resume") is True
    )
    assert trainer.cfg.get("no_such_key") is None and "headless" in trainer.cfg
    assert dict(trainer.cfg) == trainer.cfg.to_dict()
    assert "  timesteps: 20" in str(trainer).splitlines()


def test_disable_progressbar_accepts_none_and_rejects_other_values():
    assert TrainerConfig.from_dict({"disable_progressbar": None}).disable_progressbar is None
    with pytest.raises(ValueError, match='"disable_progressbar" must be True, False or None'):
        TrainerConfig.from_dict({"disable_progressbar": "auto"})


@pytest.mark.parametrize(("is_terminal", "disabled"), [(True, False), (False, True)])
def test_a_none_disable_hides_the_bar_when_stdout_is_not_a_terminal(monkeypatch, is_terminal, disabled):
    monkeypatch.setattr(sys, "stdout", Stdout(is_terminal))
    assert ProgressBar([FakeAgent()], 0, 3, disable=None).disabled is disabled
    assert ProgressBar([FakeAgent()], 0, 3, disable=True).disabled is True
    assert (
        ProgressBar([FakeAgent()], 0, 3, disable=False).disabled is disabled
    )  # off a terminal: plain lines instead


@pytest.mark.parametrize("is_terminal", [True, False])
def test_trainers_show_the_bar_for_none_only_on_a_terminal(capsys, monkeypatch, is_terminal):
    monkeypatch.setattr(sys, "stdout", Stdout(is_terminal))
    cfg = {"timesteps": 2, "headless": True, "disable_progressbar": None}
    SequentialTrainer(counter_envs(1), FakeAgent(), cfg=cfg).train()
    assert ("2/2" in capsys.readouterr().err) is is_terminal
    manual = ManualTrainer(counter_envs(1), FakeAgent(), cfg=cfg)
    manual.train()
    manual.train()
    assert ("2/2" in capsys.readouterr().err) is is_terminal
