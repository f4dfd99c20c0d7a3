"""`RPOConfig`: PPO's keys and defaults plus ``alpha`` (skrl 1.x's RPO_DEFAULT_CONFIG)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.ppo.config import PPOConfig
from rlblocks.utils.config import check_non_negative


@dataclass(kw_only=True)
class RPOConfig(PPOConfig):
    """RPO hyperparameters: every PPO key (`PPOConfig`) and the perturbation bound ``alpha``."""

    KIND = "RPO"

    alpha: float = 0.5
    """α: the update evaluates the taken actions under a Gaussian whose mean is shifted by U(−α, α)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("alpha", self.alpha)


RPO_DEFAULT_CONFIG = RPOConfig.defaults()
"""The public dict of RPO defaults, derived from `RPOConfig` so the two cannot drift."""
