"""`QLearningConfig`: the typed config behind `Q_LEARNING_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.tabular.config import TabularConfig


@dataclass(kw_only=True)
class QLearningConfig(TabularConfig):
    """Q-learning hyperparameters: discount_factor, learning_rate, random_timesteps, learning_starts ..."""

    KIND = "Q_LEARNING"


Q_LEARNING_DEFAULT_CONFIG = QLearningConfig.defaults()
"""skrl's public dict of Q-learning defaults, derived from `QLearningConfig` so the two cannot drift."""
