"""`SARSAConfig`: the typed config behind `SARSA_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.tabular.config import TabularConfig


@dataclass(kw_only=True)
class SARSAConfig(TabularConfig):
    """SARSA hyperparameters: discount_factor, learning_rate, random_timesteps, learning_starts ..."""

    KIND = "SARSA"


SARSA_DEFAULT_CONFIG = SARSAConfig.defaults()
"""skrl's public dict of SARSA defaults, derived from `SARSAConfig` so the two cannot drift."""
