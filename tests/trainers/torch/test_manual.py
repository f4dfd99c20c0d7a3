"""ManualTrainer / StepTrainer: one step per call, first timestep 0, persistent states."""

import torch
from gymnasium.vector import SyncVectorEnv

from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import ManualTrainer, StepTrainer
from tests.helpers.envs import make_counter_env
from tests.trainers.torch.fake_agent import FakeAgent

QUIET = {"disable_progressbar": True, "headless": True}


def counter_envs(*lengths):
    return wrap_env(SyncVectorEnv([make_counter_env(length) for length in lengths]), verbose=False)


def test_step_trainer_is_the_manual_trainer():
    assert StepTrainer is ManualTrainer


def test_first_internal_timestep_is_0_and_each_call_is_one_step():
    agent = FakeAgent()
    trainer = ManualTrainer(counter_envs(2), agent, cfg={"timesteps": 10, **QUIET})
    assert agent.calls == [("init",)]
    for _ in range(3):
        trainer.train()
    assert agent.hooks("pre_interaction") == [(0, 10), (1, 10), (2, 10)]
    assert agent.hooks("post_interaction") == [(0, 10), (1, 10), (2, 10)]
    assert agent.calls.count(("set_running_mode", "train")) == 1


def test_states_persist_between_calls_and_the_env_is_reset_once():
    env = counter_envs(2)
    agent = FakeAgent()
    trainer = ManualTrainer(env, agent, cfg=QUIET)
    for _ in range(3):
        trainer.train()
    assert [clone.item() for _, clone in agent.acted_on] == [0, 1, 0]  # truncated after 2 steps
    assert list(env.get_attr("num_resets")) == [2]  # the first reset and the episode end
    assert torch.equal(trainer.states, torch.tensor([[1.0]]))


def test_explicit_timestep_and_timesteps_are_passed_and_the_count_continues_from_them():
    agent = FakeAgent()
    trainer = ManualTrainer(counter_envs(5), agent, cfg=QUIET)
    trainer.train(timestep=7, timesteps=20)
    trainer.train()
    assert agent.hooks("act") == [(7, 20), (8, 100000)]


def test_eval_counts_its_own_timesteps_and_calls_no_pre_interaction():
    agent = FakeAgent()
    trainer = ManualTrainer(counter_envs(5), agent, cfg={"timesteps": 4, **QUIET})
    trainer.train()
    trainer.train()
    trainer.eval()
    trainer.eval()
    assert agent.hooks("pre_interaction") == [(0, 4), (1, 4)]
    assert agent.hooks("act") == [(0, 4), (1, 4), (0, 4), (1, 4)]
    modes = [call[1] for call in agent.calls if call[0] == "set_running_mode"]
    assert modes == ["train", "eval"]


def test_resume_starts_the_training_count_at_the_agent_timestep():
    agent = FakeAgent()
    agent.timestep = 5
    trainer = ManualTrainer(counter_envs(5), agent, cfg={"resume": True, **QUIET})
    trainer.train()
    trainer.train()
    assert agent.hooks("act") == [(5, 100000), (6, 100000)]


def test_manual_trainer_does_not_close_the_env():
    env = counter_envs(2)
    trainer = ManualTrainer(env, FakeAgent(), cfg={"timesteps": 1, **QUIET})
    trainer.train()
    assert not env.env.closed


def test_progress_bar_counts_the_calls(capsys):
    cfg = {"timesteps": 2, "headless": True, "progress": "bar"}
    trainer = ManualTrainer(counter_envs(2), FakeAgent(), cfg=cfg)
    trainer.train()
    trainer.train()
    assert "2/2" in capsys.readouterr().err
