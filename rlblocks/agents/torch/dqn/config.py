"""`DQNConfig` and `DDQNConfig`: the typed configs behind `DQN_DEFAULT_CONFIG` and `DDQN_DEFAULT_CONFIG`.

skrl 0.10's keys and defaults. Two of them are easy to misread, so here they are in full:

- Target network: every ``target_update_interval`` (10) steps, θ̄ ← (1 − polyak)·θ̄ + polyak·θ with
  polyak 0.005, i.e. a *soft* update. For the classic DQN hard copy, set ``polyak`` to 1 (and
  typically ``target_update_interval`` to a few hundred or thousand steps).
- Exploration: ε(t) = final + (initial − final)·exp(−t / timesteps), an *exponential* decay
  (within 5% of final after 3·timesteps), not the linear schedule of the DQN paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rlblocks.agents.torch.off_policy.config import EpsilonGreedyConfig, OffPolicyConfig
from rlblocks.utils.config import check_positive


@dataclass(kw_only=True)
class DQNConfig(OffPolicyConfig):
    """DQN hyperparameters; public dict keys equal the field names (see the module docstring)."""

    KIND = "DQN"

    learning_rate: float = 1e-3
    """Adam learning rate of the Q-network."""
    update_interval: int = 1
    """Timesteps between two updates."""
    target_update_interval: int = 10
    """Timesteps between two target-network updates (each one by ``polyak``; 1 is a hard copy)."""
    exploration: EpsilonGreedyConfig = field(default_factory=EpsilonGreedyConfig)
    """ε-greedy schedule (a partial dict keeps the other keys' defaults)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("learning_rate", self.learning_rate)
        check_positive("update_interval", self.update_interval)
        check_positive("target_update_interval", self.target_update_interval)


@dataclass(kw_only=True)
class DDQNConfig(DQNConfig):
    """Double DQN hyperparameters: the same keys and defaults as DQN."""

    KIND = "DDQN"


DQN_DEFAULT_CONFIG = DQNConfig.defaults()
"""skrl's public dict of DQN defaults, derived from `DQNConfig` so the two cannot drift."""
DDQN_DEFAULT_CONFIG = DDQNConfig.defaults()
"""skrl's public dict of DDQN defaults, derived from `DDQNConfig` so the two cannot drift."""
