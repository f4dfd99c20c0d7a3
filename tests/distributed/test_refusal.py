"""Agents whose update is not averaged over ranks refuse to run on several (no process group needed)."""

import pytest

from rlblocks.agents.torch.a2c import A2C
from rlblocks.agents.torch.base import Agent
from rlblocks.agents.torch.cem import CEM
from rlblocks.agents.torch.ddpg import DDPG
from rlblocks.agents.torch.dqn import DDQN, DQN
from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.q_learning import Q_LEARNING
from rlblocks.agents.torch.rpo import RPO
from rlblocks.agents.torch.sac import SAC
from rlblocks.agents.torch.sarsa import SARSA
from rlblocks.agents.torch.td3 import TD3
from rlblocks.agents.torch.trpo import TRPO


def test_the_agents_that_support_several_ranks_and_those_that_do_not():
    supported = {
        agent.__name__ for agent in (A2C, DDPG, DDQN, DQN, PPO, RPO, SAC, TD3) if agent.SUPPORTS_DISTRIBUTED
    }
    refused = {agent.__name__ for agent in (CEM, Q_LEARNING, SARSA, TRPO) if not agent.SUPPORTS_DISTRIBUTED}
    assert supported == {"A2C", "DDPG", "DDQN", "DQN", "PPO", "RPO", "SAC", "TD3"}
    assert refused == {"CEM", "Q_LEARNING", "SARSA", "TRPO"}


class OneProcessAgent(Agent):
    SUPPORTS_DISTRIBUTED = False


def test_init_on_several_ranks_raises_before_any_collective(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    agent = OneProcessAgent(models={}, cfg={"experiment": {"directory": str(tmp_path)}})
    with pytest.raises(
        NotImplementedError, match=r"OneProcessAgent does not support .*WORLD_SIZE=2.*one process"
    ):
        agent.init()
    assert list(tmp_path.iterdir()) == []  # rank 1 wrote nothing
