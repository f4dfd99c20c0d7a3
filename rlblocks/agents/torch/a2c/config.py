"""`A2CConfig`: the typed config behind `A2C_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.on_policy.config import ActorCriticConfig


@dataclass(kw_only=True)
class A2CConfig(ActorCriticConfig):
    """A2C hyperparameters: the shared on-policy keys (`ActorCriticConfig`), one pass of one mini-batch."""

    KIND = "A2C"

    mini_batches: int = 1
    """Mini-batches of the single pass over the rollout."""


A2C_DEFAULT_CONFIG = A2CConfig.defaults()
"""skrl's public dict of A2C defaults, derived from `A2CConfig` so the two cannot drift."""
