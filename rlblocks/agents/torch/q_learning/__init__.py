"""Q-learning (tabular)."""

from rlblocks.agents.torch.q_learning.config import Q_LEARNING_DEFAULT_CONFIG, QLearningConfig
from rlblocks.agents.torch.q_learning.q_learning import Q_LEARNING

__all__ = ["Q_LEARNING", "Q_LEARNING_DEFAULT_CONFIG", "QLearningConfig"]
