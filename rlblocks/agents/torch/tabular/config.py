"""`TabularConfig`: the keys Q-learning and SARSA share (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlblocks.agents.torch.config import AgentConfig
from rlblocks.utils.config import check_non_negative, check_range


@dataclass(kw_only=True)
class TabularConfig(AgentConfig):
    """Tabular temporal-difference hyperparameters; public dict keys equal the field names."""

    discount_factor: float = 0.99
    """γ in [0, 1]."""
    learning_rate: float = 0.5
    """α in (0, 1], the step size of the table update."""
    random_timesteps: int = 0
    """Initial timesteps with uniformly random actions (while training)."""
    learning_starts: int = 0
    """Timesteps before the first update."""
    rewards_shaper: Callable[..., Any] | None = None
    """f(rewards, timestep, timesteps) -> shaped rewards, used by the update."""

    def __post_init__(self) -> None:
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_range("learning_rate", self.learning_rate, 0.0, 1.0, strict_low=True)
        check_non_negative("random_timesteps", self.random_timesteps)
        check_non_negative("learning_starts", self.learning_starts)
