"""`PPOConfig`: the typed config behind `PPO_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rlblocks.agents.torch.config import AgentConfig
from rlblocks.utils.config import check_non_negative, check_positive, check_range


@dataclass(kw_only=True)
class PPOConfig(AgentConfig):
    """PPO hyperparameters. Public dict keys equal the field names, except ``gae_lambda`` ("lambda")."""

    PUBLIC_KEYS: ClassVar[dict[str, str]] = {"gae_lambda": "lambda"}
    KIND = "PPO"

    rollouts: int = 16
    """Steps collected from each environment between two updates."""
    learning_epochs: int = 8
    """Passes over the rollout per update."""
    mini_batches: int = 2
    """Mini-batches per pass."""
    discount_factor: float = 0.99
    """γ in [0, 1]."""
    gae_lambda: float = 0.95
    """GAE λ in [0, 1]. Public dict key: "lambda" (a Python keyword)."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    learning_rate_scheduler: Any = None
    """A scheduler class (e.g. KLAdaptiveRL), built as cls(optimizer, **learning_rate_scheduler_kwargs)."""
    learning_rate_scheduler_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the scheduler."""
    state_preprocessor: Any = None
    """A preprocessor class (e.g. RunningStandardScaler) for observations."""
    state_preprocessor_kwargs: dict[str, Any] = field(default_factory=dict)
    """Its keyword arguments; size and device default to the observation space and the agent's device."""
    value_preprocessor: Any = None
    """A preprocessor class for values and returns."""
    value_preprocessor_kwargs: dict[str, Any] = field(default_factory=dict)
    """Its keyword arguments; size defaults to 1."""
    random_timesteps: int = 0
    """Initial timesteps with uniformly random actions."""
    learning_starts: int = 0
    """Timesteps before the first update."""
    grad_norm_clip: float = 0.5
    """Clip the gradients' global norm to this (0 = no clipping)."""
    ratio_clip: float = 0.2
    """ε of the clipped surrogate."""
    value_clip: float = 0.2
    """Clip range of predicted values around the old ones (if clip_predicted_values)."""
    clip_predicted_values: bool = False
    """Clip predicted values (value-function clipping)."""
    entropy_loss_scale: float = 0.0
    """Entropy bonus coefficient."""
    value_loss_scale: float = 1.0
    """Value loss coefficient."""
    kl_threshold: float = 0
    """Stop the update when the approximate KL exceeds this (0 = never)."""
    rewards_shaper: Callable[..., Any] | None = None
    """f(rewards, timestep, timesteps) -> shaped rewards, applied to what the memory stores."""
    time_limit_bootstrap: bool = True
    """Add γ·V(s_final) to the reward of a step truncated by a time limit (not in skrl 0.10)."""

    def __post_init__(self) -> None:
        for name in ("rollouts", "learning_epochs", "mini_batches"):
            check_positive(name, getattr(self, name))
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_range("lambda", self.gae_lambda, 0.0, 1.0)
        check_positive("learning_rate", self.learning_rate)
        for name in ("random_timesteps", "learning_starts", "grad_norm_clip", "ratio_clip", "value_clip"):
            check_non_negative(name, getattr(self, name))
        for name in ("entropy_loss_scale", "value_loss_scale", "kl_threshold"):
            check_non_negative(name, getattr(self, name))


PPO_DEFAULT_CONFIG = PPOConfig.defaults()
"""skrl's public dict of PPO defaults, derived from `PPOConfig` so the two cannot drift."""
