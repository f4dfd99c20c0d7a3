"""`CEMConfig`: the typed config behind `CEM_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.config import AgentConfig, GradientAgentKeys, check_warm_up_keys
from rlblocks.utils.config import check_positive, check_range


@dataclass(kw_only=True)
class CEMConfig(GradientAgentKeys, AgentConfig):
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

    def __post_init__(self) -> None:
        check_positive("rollouts", self.rollouts)
        check_range("percentile", self.percentile, 0.0, 1.0)
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_positive("learning_rate", self.learning_rate)
        check_warm_up_keys(self)


CEM_DEFAULT_CONFIG = CEMConfig.defaults()
"""skrl's public dict of CEM defaults, derived from `CEMConfig` so the two cannot drift."""
