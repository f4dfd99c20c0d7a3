"""`PPOConfig`: the typed config behind `PPO_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.on_policy.config import ActorCriticConfig
from rlblocks.utils.config import check_non_negative, check_positive


@dataclass(kw_only=True)
class PPOConfig(ActorCriticConfig):
    """PPO hyperparameters: the shared on-policy keys (`ActorCriticConfig`) plus the clipping keys below."""

    KIND = "PPO"

    learning_epochs: int = 8
    """Passes over the rollout per update."""
    ratio_clip: float = 0.2
    """ε of the clipped surrogate (> 0)."""
    value_clip: float = 0.2
    """Clip range of predicted values around the old ones (if clip_predicted_values)."""
    clip_predicted_values: bool = False
    """Clip predicted values (value-function clipping)."""
    value_loss_scale: float = 1.0
    """Value loss coefficient."""
    kl_threshold: float = 0
    """Stop the update when the approximate KL exceeds this (0 = never)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("learning_epochs", self.learning_epochs)
        check_positive("ratio_clip", self.ratio_clip)  # 0 would freeze the policy
        for name in ("value_clip", "value_loss_scale", "kl_threshold"):
            check_non_negative(name, getattr(self, name))


PPO_DEFAULT_CONFIG = PPOConfig.defaults()
"""skrl's public dict of PPO defaults, derived from `PPOConfig` so the two cannot drift."""
