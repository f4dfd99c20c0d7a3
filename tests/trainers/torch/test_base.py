"""Trainer base: config validation, agents' init, custom trainers, scopes and their errors."""

import inspect

import pytest
from gymnasium.vector import SyncVectorEnv

from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import (
    ManualTrainer,
    ParallelTrainer,
    SequentialTrainer,
    Trainer,
    generate_equally_spaced_scopes,
)
from rlblocks.trainers.torch.config import TrainerConfig
from rlblocks.trainers.torch.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG
from rlblocks.utils.config import ConfigKeyError
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
        "progress": "auto",
        "torch_threads": "auto",
        "eval_interval": 0,
        "eval_episodes": 10,
        "stop_at_return": None,
        "patience": 0,
    }
    trainer = SequentialTrainer(counter_envs(1), FakeAgent(), cfg={"timesteps": 7})
    assert trainer.cfg.to_dict() == {**SEQUENTIAL_TRAINER_DEFAULT_CONFIG, "timesteps": 7}
    assert trainer.timesteps == 7 and trainer.cfg["timesteps"] == 7 and trainer.cfg.get("timesteps") == 7


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


@pytest.mark.parametrize("trainer_class", [SequentialTrainer, ParallelTrainer, ManualTrainer])
@pytest.mark.parametrize("num_agents", [1, 2])
def test_each_builtin_trainer_calls_init_once_per_agent_with_the_config_dict(trainer_class, num_agents):
    agents = [FakeAgent() for _ in range(num_agents)]
    trainer = trainer_class(counter_envs(2), agents, cfg={"timesteps": 3, "disable_progressbar": True})
    for agent in agents:
        assert agent.calls == [("init",)]
        assert agent.trainer_cfg == {
            **SEQUENTIAL_TRAINER_DEFAULT_CONFIG,
            "timesteps": 3,
            "disable_progressbar": True,
        }
    trainer.train()
    assert [agent.calls.count(("init",)) for agent in agents] == [1] * num_agents


def test_builtin_trainer_constructors_keep_the_skrl_signature():
    expected = ["self", "env", "agents", "agents_scope", "cfg"]
    for trainer_class in (Trainer, SequentialTrainer, ParallelTrainer, ManualTrainer):
        parameters = inspect.signature(trainer_class.__init__).parameters
        positional = [name for name, item in parameters.items() if item.kind is not item.KEYWORD_ONLY]
        assert positional == expected
        # rlblocks' additions are keyword-only: evaluation during training and callbacks
        assert set(parameters) - set(expected) <= {"eval_env", "callbacks"}
        assert parameters["agents_scope"].default is None and parameters["cfg"].default is None


class TemplateTrainer(Trainer):
    """skrl's custom-trainer template: it calls `init` itself and has a key of its own."""

    def __init__(self, env, agents, agents_scope=None, cfg=None):
        super().__init__(env=env, agents=agents, agents_scope=agents_scope, cfg={"my_key": 3, **(cfg or {})})
        for agent in self._agents:
            agent.init(trainer_cfg=self.cfg)

    def train(self):
        self._run(training=True)


def test_a_custom_trainer_from_the_skrl_template_inits_each_agent_once_and_keeps_its_keys():
    agent = FakeAgent()
    trainer = TemplateTrainer(counter_envs(1), agent, cfg={"timesteps": 2, "disable_progressbar": True})
    assert agent.calls == [("init",)]
    assert agent.trainer_cfg == {
        **SEQUENTIAL_TRAINER_DEFAULT_CONFIG,
        "timesteps": 2,
        "disable_progressbar": True,
        "my_key": 3,
    }
    assert trainer.cfg["my_key"] == 3 and trainer.cfg.get("my_key") == 3 and trainer.cfg.get("other", 1) == 1
    assert isinstance(trainer.cfg, TrainerConfig) and trainer.timesteps == 2
    trainer.train()
    assert agent.hooks("post_interaction") == [(0, 2), (1, 2)]


def test_the_base_trainer_accepts_unknown_keys_and_does_not_init_the_agents():
    agent = FakeAgent()
    trainer = Trainer(counter_envs(1), agent, cfg={"timesteps": 10, "my_key": 3})
    assert trainer.cfg["my_key"] == 3 and trainer.cfg.get("my_key") == 3 and trainer.timesteps == 10
    assert agent.calls == []


@pytest.mark.parametrize("trainer_class", [SequentialTrainer, ParallelTrainer, ManualTrainer])
def test_builtin_trainers_reject_a_typo_naming_the_nearest_key(trainer_class):
    with pytest.raises(
        ConfigKeyError, match='unknown trainer config key "headles" \\(did you mean "headless"\\?\\)'
    ):
        trainer_class(counter_envs(1), FakeAgent(), cfg={"headles": True})


def test_a_subclass_of_a_builtin_trainer_is_strict_and_told_how_to_pass_its_own_keys():
    class Strict(SequentialTrainer):
        pass

    class Lenient(SequentialTrainer):
        STRICT_CONFIG = False

    with pytest.raises(
        ConfigKeyError, match="Strict inherits STRICT_CONFIG = True; set STRICT_CONFIG = False"
    ):
        Strict(counter_envs(1), FakeAgent(), cfg={"my_key": 3})
    agent = FakeAgent()
    assert Lenient(counter_envs(1), agent, cfg={"my_key": 3}).cfg["my_key"] == 3
    assert agent.calls == [("init",)] and agent.trainer_cfg["my_key"] == 3


def test_trainer_attributes_read_and_write_the_config():
    trainer = SequentialTrainer(counter_envs(1), FakeAgent(), cfg={"timesteps": 5, "headless": True})
    assert (trainer.timesteps, trainer.headless, trainer.disable_progressbar) == (5, True, False)
    assert trainer.close_environment_at_exit is True
    trainer.timesteps = 8
    assert trainer.cfg["timesteps"] == 8 and trainer.cfg.timesteps == 8


def test_a_custom_trainer_can_leave_init_to_the_base_class():
    class Mine(Trainer):
        INITS_AGENTS = True

    agents = [FakeAgent(), FakeAgent()]
    Mine(counter_envs(2), agents, cfg={"timesteps": 4, "my_key": 3})
    for agent in agents:
        assert agent.calls == [("init",)] and agent.trainer_cfg["my_key"] == 3
