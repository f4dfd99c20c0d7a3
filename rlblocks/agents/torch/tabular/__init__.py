"""The tabular agents' family: `TabularAgent` (Q-learning, SARSA) and a ready ε-greedy table model."""

from rlblocks.agents.torch.tabular.agent import TabularAgent
from rlblocks.agents.torch.tabular.config import TabularConfig
from rlblocks.agents.torch.tabular.policy import EpsilonGreedyTabularPolicy

__all__ = ["EpsilonGreedyTabularPolicy", "TabularAgent", "TabularConfig"]
