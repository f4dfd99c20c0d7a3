"""`TabularConfig`: the keys Q-learning and SARSA share (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.config import AgentConfig, WarmUpKeys, check_warm_up_keys
from rlblocks.utils.config import check_range


@dataclass(kw_only=True)
class TabularConfig(WarmUpKeys, AgentConfig):
    """Tabular temporal-difference hyperparameters; public dict keys equal the field names."""

    discount_factor: float = 0.99
    """γ in [0, 1]."""
    learning_rate: float = 0.5
    """α in (0, 1], the step size of the table update."""

    def __post_init__(self) -> None:
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_range("learning_rate", self.learning_rate, 0.0, 1.0, strict_low=True)
        check_warm_up_keys(self)
