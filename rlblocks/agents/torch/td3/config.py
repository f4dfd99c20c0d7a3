"""`TD3Config`: the typed config behind `TD3_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlblocks.agents.torch.ddpg.config import DDPGConfig
from rlblocks.agents.torch.off_policy.config import check_noise
from rlblocks.utils.config import check_non_negative, check_positive

PAPER_SMOOTHING_STD = 0.2
"""Standard deviation of the target-smoothing noise when none is configured (Fujimoto et al. 2018)."""


@dataclass(kw_only=True)
class TD3Config(DDPGConfig):
    """TD3 hyperparameters: DDPG's plus the policy delay and target policy smoothing."""

    KIND = "TD3"

    policy_delay: int = 2
    """Critic updates per policy (and target-network) update."""
    smooth_regularization_noise: Any = None
    """Noise instance ε added to the target policy's actions (target policy smoothing); None: the
    paper's N(0, 0.2²) (skrl 0.10 crashes on None, #14). Set smooth_regularization_clip to 0 to
    turn smoothing off."""
    smooth_regularization_clip: float = 0.5
    """ε is clipped to ±this before it is added (0: no smoothing)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("policy_delay", self.policy_delay)
        check_non_negative("smooth_regularization_clip", self.smooth_regularization_clip)
        check_noise('"smooth_regularization_noise"', self.smooth_regularization_noise)


TD3_DEFAULT_CONFIG = TD3Config.defaults()
"""skrl's public dict of TD3 defaults, derived from `TD3Config` so the two cannot drift."""
