"""Typed configs shared by the on-policy agents: the keys PPO, A2C, TRPO and RPO all have, held once.

`OnPolicyConfig` holds the rollout, return, preprocessing and scheduling keys every on-policy agent
has; `ActorCriticConfig` adds the single learning rate and the entropy bonus of the agents that train
policy and value with one optimizer (PPO, A2C, RPO). Each agent's config derives from one of them and
sets its own defaults where skrl 0.10's differ (A2C's ``mini_batches`` is 1, PPO's is 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rlblocks.agents.torch.config import AgentConfig, GradientAgentKeys, check_warm_up_keys
from rlblocks.utils.config import check_non_negative, check_positive, check_range


@dataclass(kw_only=True)
class OnPolicyConfig(GradientAgentKeys, AgentConfig):
    """Keys of every on-policy agent. Public keys equal the field names, except ``gae_lambda`` ("lambda")."""

    PUBLIC_KEYS: ClassVar[dict[str, str]] = {"gae_lambda": "lambda"}

    rollouts: int = 16
    """Steps collected from each environment between two updates."""
    mini_batches: int = 2
    """Mini-batches per pass over the rollout."""
    discount_factor: float = 0.99
    """γ in [0, 1]."""
    gae_lambda: float = 0.95
    """GAE λ in [0, 1]. Public dict key: "lambda" (a Python keyword)."""
    value_preprocessor: Any = None
    """A preprocessor class for values and returns."""
    value_preprocessor_kwargs: dict[str, Any] = field(default_factory=dict)
    """Its keyword arguments; size defaults to 1."""
    grad_norm_clip: float = 0.5
    """Clip the gradients' global norm to this (0 = no clipping)."""
    time_limit_bootstrap: bool = True
    """Add γ·V(s_final) to the reward of a step truncated by a time limit (not in skrl 0.10)."""

    def __post_init__(self) -> None:
        for name in ("rollouts", "mini_batches"):
            check_positive(name, getattr(self, name))
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_range("lambda", self.gae_lambda, 0.0, 1.0)
        check_warm_up_keys(self)
        check_non_negative("grad_norm_clip", self.grad_norm_clip)


@dataclass(kw_only=True)
class ActorCriticConfig(OnPolicyConfig):
    """`OnPolicyConfig` plus one Adam learning rate for policy and value, and an entropy bonus."""

    learning_rate: float = 1e-3
    """Adam learning rate (policy and value together)."""
    entropy_loss_scale: float = 0.0
    """Entropy bonus coefficient."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("learning_rate", self.learning_rate)
        check_non_negative("entropy_loss_scale", self.entropy_loss_scale)
