"""`DDPGConfig`: the typed config behind `DDPG_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rlblocks.agents.torch.off_policy.config import ActorCriticConfig, NoiseExplorationConfig


@dataclass(kw_only=True)
class DDPGConfig(ActorCriticConfig):
    """DDPG hyperparameters; public dict keys equal the field names."""

    KIND = "DDPG"

    exploration: NoiseExplorationConfig = field(default_factory=NoiseExplorationConfig)
    """Exploration noise and its decaying scale (a partial dict keeps the other keys' defaults)."""


DDPG_DEFAULT_CONFIG = DDPGConfig.defaults()
"""skrl's public dict of DDPG defaults, derived from `DDPGConfig` so the two cannot drift."""
