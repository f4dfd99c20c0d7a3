"""The agent base: its family structure, skrl's custom-agent template, evaluation logs."""

import inspect

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch import Agent
from rlblocks.agents.torch.a2c import A2C
from rlblocks.agents.torch.cem import CEM
from rlblocks.agents.torch.ddpg import DDPG
from rlblocks.agents.torch.dqn import DDQN, DQN
from rlblocks.agents.torch.off_policy import OffPolicyAgent
from rlblocks.agents.torch.on_policy import OnPolicyAgent
from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.q_learning import Q_LEARNING
from rlblocks.agents.torch.rpo import RPO
from rlblocks.agents.torch.sac import SAC
from rlblocks.agents.torch.sarsa import SARSA
from rlblocks.agents.torch.tabular import TabularAgent
from rlblocks.agents.torch.td3 import TD3
from rlblocks.agents.torch.trpo import TRPO
from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils.config import ConfigKeyError
from tests.helpers.models import CategoricalPolicy, Value

PUBLIC_AGENTS = (PPO, A2C, TRPO, RPO, SAC, TD3, DDPG, DQN, DDQN, CEM, Q_LEARNING, SARSA)
FAMILY_BASES = (OnPolicyAgent, OffPolicyAgent, TabularAgent)


@pytest.mark.parametrize("agent_class", PUBLIC_AGENTS, ids=lambda klass: klass.__name__)
def test_every_agent_sits_at_most_one_class_below_a_family_base_on_agent(agent_class):
    parent = agent_class.__mro__[1]
    assert parent is Agent or (parent in FAMILY_BASES and parent.__bases__ == (Agent,))


@pytest.mark.parametrize("agent_class", PUBLIC_AGENTS, ids=lambda klass: klass.__name__)
def test_constructors_keep_skrl_signature(agent_class):
    parameters = inspect.signature(agent_class).parameters
    assert list(parameters) == ["models", "memory", "observation_space", "action_space", "device", "cfg"]
    assert [parameters[name].default for name in list(parameters)[1:]] == [None] * 5


class CustomAgent(Agent):
    """skrl's documented template: its own keys passed to Agent.__init__, read from self.cfg."""

    def __init__(self, models, memory=None, observation_space=None, action_space=None, device=None, cfg=None):
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.my_value = self.cfg["my_key"] * 2
        self.other = self.cfg.get("absent", "default")

    def act(self, states, timestep, timesteps):
        return torch.zeros(states.shape[0], 1, dtype=torch.int64), None, {}


def test_a_custom_agent_may_bring_its_own_config_keys():
    agent = CustomAgent({}, cfg={"my_key": 21, "experiment": {"write_interval": 0}})
    assert (agent.my_value, agent.other) == (42, "default")
    assert agent.cfg.experiment.write_interval == 0
    with pytest.raises(ConfigKeyError, match="did you mean"):
        CustomAgent({}, cfg={"my_key": 1, "experiment": {"write_intervall": 0}})


def test_built_in_agents_keep_rejecting_typos():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, None),
    }
    with pytest.raises(ConfigKeyError, match='did you mean "rollouts"'):
        PPO(models, None, env.observation_space, env.action_space, "cpu", {"rollout": 8})


def scalars(directory, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(directory))
    events.Reload()
    return (
        [(event.step, event.value) for event in events.Scalars(tag)]
        if tag in events.Tags()["scalars"]
        else []
    )


def test_evaluation_logs_episode_returns_and_lengths_to_its_own_tensorboard_run(tmp_path):
    """CartPole with a policy that always pushes left: episodes last about 10 steps, return = length."""
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    experiment = {
        "directory": str(tmp_path),
        "experiment_name": "run",
        "write_interval": 20,
        "checkpoint_interval": 0,
    }
    agent = CustomAgent(
        {}, None, env.observation_space, env.action_space, "cpu", {"my_key": 0, "experiment": experiment}
    )
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": 60, "headless": True, "disable_progressbar": True}
    )
    trainer.eval()
    returns = scalars(tmp_path / "run" / "eval", "Reward / Total reward (mean)")
    lengths = scalars(tmp_path / "run" / "eval", "Episode / Total timesteps (mean)")
    assert [step for step, _ in returns] == [40, 80, 120]  # env steps: timesteps 20, 40, 60 x 2 envs
    assert all(5 <= value <= 15 for _, value in returns)
    assert returns == lengths  # reward 1 per step
    assert agent.timestep == 0  # evaluation does not count training steps
    assert not (tmp_path / "run" / "checkpoints").exists() or not any(
        (tmp_path / "run" / "checkpoints").iterdir()
    )
