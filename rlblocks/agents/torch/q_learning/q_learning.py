"""Q-learning: off-policy tabular temporal-difference control (Watkins 1989; Sutton & Barto 2018, eq. 6.8).

Data flow: act ε-greedily (the model's exploration) -> after every step, for every env e:
Q[e, s, a] ← Q[e, s, a] + α·(r + γ·(1 − terminated)·max_a' Q[e, s', a'] − Q[e, s, a]).

Differs from skrl 0.10: see `rlblocks.agents.torch.tabular.agent` (time-limit truncations
bootstrap from the true final observation; greedy evaluation).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from rlblocks.agents.torch.q_learning.config import QLearningConfig
from rlblocks.agents.torch.tabular.agent import TabularAgent


class Q_LEARNING(TabularAgent):
    """Q-learning: models, errors and evaluation as in `TabularAgent`."""

    CONFIG_CLASS: ClassVar[type[QLearningConfig]] = QLearningConfig

    def _next_q_values(
        self, table: torch.Tensor, env_indexes: torch.Tensor, next_states: torch.Tensor
    ) -> torch.Tensor:
        """(N, 1) max_a' Q[e, s', a']: the greedy action's value, whatever the policy does next."""
        return table[env_indexes, next_states].max(dim=-1).values
