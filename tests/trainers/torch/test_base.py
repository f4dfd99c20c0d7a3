"""Trainer base: config validation, scopes and their errors, generate_equally_spaced_scopes."""

import pytest
from gymnasium.vector import SyncVectorEnv

from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import SequentialTrainer, Trainer, generate_equally_spaced_scopes
from rlblocks.trainers.torch.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG
from tests.helpers.envs import make_counter_env
from tests.trainers.torch.fake_agent import FakeAgent


def counter_envs(num_envs):
    return wrap_env(SyncVectorEnv([make_counter_env(3)] * num_envs), verbose=False)


def test_default_config_has_skrl_keys_and_rlblocks_extras():
    assert SEQUENTIAL_TRAINER_DEFAULT_CONFIG == {
        "timesteps": 100000,
        "headless": False,
        "disable_progressbar": False,
        "close_environment_at_exit": True,
        "resume": False,
        "stochastic_evaluation": False,
    }
    trainer = SequentialTrainer(counter_envs(1), FakeAgent(), cfg={"timesteps": 7})
    assert trainer.cfg == {**SEQUENTIAL_TRAINER_DEFAULT_CONFIG, "timesteps": 7} and trainer.timesteps == 7


def test_unknown_config_key_names_the_nearest_valid_key():
    with pytest.raises(
        KeyError, match='unknown trainer config key "timestep" \\(did you mean "timesteps"\\?\\)'
    ):
        SequentialTrainer(counter_envs(1), FakeAgent(), cfg={"timestep": 10})


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"timesteps": -1}, '"timesteps" must be >= 0'),
        ({"timesteps": 2.5}, '"timesteps" must be an int'),
        ({"headless": "yes"}, '"headless" must be True or False'),
    ],
)
def test_invalid_config_values(cfg, message):
    with pytest.raises(ValueError, match=message):
        SequentialTrainer(counter_envs(1), FakeAgent(), cfg=cfg)


def test_integral_float_timesteps_are_accepted():
    assert SequentialTrainer(counter_envs(1), FakeAgent(), cfg={"timesteps": 1e3}).timesteps == 1000


def test_generate_equally_spaced_scopes():
    assert generate_equally_spaced_scopes(10, 3) == [3, 3, 4]
    assert generate_equally_spaced_scopes(4, 4) == [1, 1, 1, 1]
    with pytest.raises(
        ValueError, match=r"number of agents \(3\) is greater than the number of environments \(2\)"
    ):
        generate_equally_spaced_scopes(2, 3)


def test_more_agents_than_envs_without_scopes():
    with pytest.raises(ValueError, match=r"number of agents \(3\) is greater"):
        SequentialTrainer(counter_envs(2), [FakeAgent(), FakeAgent(), FakeAgent()])


def test_scopes_must_match_the_number_of_agents():
    with pytest.raises(ValueError, match=r"number of agents \(2\) doesn't match the number of scopes \(3\)"):
        SequentialTrainer(counter_envs(3), [FakeAgent(), FakeAgent()], agents_scope=[1, 1, 1])


def test_scopes_must_cover_the_envs():
    with pytest.raises(ValueError, match=r"\(3 envs\) don't cover .* environments \(4\); .* e.g. \[2, 2\]"):
        SequentialTrainer(counter_envs(4), [FakeAgent(), FakeAgent()], agents_scope=[1, 2])


def test_scopes_must_be_positive_ints():
    with pytest.raises(ValueError, match=r"positive int .* got \[0, 2\]"):
        SequentialTrainer(counter_envs(2), [FakeAgent(), FakeAgent()], agents_scope=[0, 2])


def test_empty_agent_list():
    with pytest.raises(ValueError, match="A list of agents is expected"):
        SequentialTrainer(counter_envs(1), [])


def test_base_trainer_train_and_eval_are_abstract():
    trainer = Trainer(counter_envs(1), FakeAgent())
    with pytest.raises(NotImplementedError):
        trainer.train()
    with pytest.raises(NotImplementedError):
        trainer.eval()


def test_single_agent_paths_refuse_several_agents():
    trainer = SequentialTrainer(
        counter_envs(2), [FakeAgent(), FakeAgent()], cfg={"disable_progressbar": True}
    )
    with pytest.raises(ValueError, match="single_agent_train\\(\\) runs one agent, but this trainer has 2"):
        trainer.single_agent_train()


def test_single_agent_train_runs_the_loop():
    agent = FakeAgent()
    trainer = SequentialTrainer(counter_envs(1), agent, cfg={"timesteps": 2, "disable_progressbar": True})
    trainer.single_agent_train()
    assert agent.hooks("pre_interaction") == [(0, 2), (1, 2)]
