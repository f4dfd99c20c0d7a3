"""`CEMConfig`: the typed config behind `CEM_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlblocks.agents.torch.config import AgentConfig
from rlblocks.utils.config import check_non_negative, check_positive, check_range


@dataclass(kw_only=True)
class CEMConfig(AgentConfig):
    """Cross-Entropy Method hyperparameters; public dict keys equal the field names."""

    KIND = "CEM"

    rollouts: int = 16
    """Steps collected from each environment between two updates (the memory holds one rollout)."""
    percentile: float = 0.70
    """Quantile in [0, 1] of the episodes' discounted returns above which an episode is elite."""
    discount_factor: float = 0.99
    """γ in [0, 1] of the episodes' discounted returns."""
    learning_rate: float = 1e-2
    """Adam learning rate of the policy."""
    learning_rate_scheduler: Any = None
    """A scheduler class (e.g. LinearLR), built as cls(optimizer, **learning_rate_scheduler_kwargs)."""
    learning_rate_scheduler_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the scheduler."""
    state_preprocessor: Any = None
    """A preprocessor class (e.g. RunningStandardScaler) for observations."""
    state_preprocessor_kwargs: dict[str, Any] = field(default_factory=dict)
    """Its keyword arguments; size and device default to the observation space and the agent's device."""
    random_timesteps: int = 0
    """Initial timesteps with uniformly random actions (while training)."""
    learning_starts: int = 0
    """Timesteps before the first update."""
    rewards_shaper: Callable[..., Any] | None = None
    """f(rewards, timestep, timesteps) -> shaped rewards, applied to what the memory stores."""

    def __post_init__(self) -> None:
        check_positive("rollouts", self.rollouts)
        check_range("percentile", self.percentile, 0.0, 1.0)
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_positive("learning_rate", self.learning_rate)
        check_non_negative("random_timesteps", self.random_timesteps)
        check_non_negative("learning_starts", self.learning_starts)


CEM_DEFAULT_CONFIG = CEMConfig.defaults()
"""skrl's public dict of CEM defaults, derived from `CEMConfig` so the two cannot drift."""
