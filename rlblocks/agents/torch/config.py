"""Config sections every agent shares: ``experiment`` (logging and checkpoints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlblocks.utils.config import Config, check_non_negative


@dataclass(kw_only=True)
class ExperimentConfig(Config):
    """The ``experiment`` section: where and how often to log and checkpoint."""

    KIND = "experiment"

    directory: str = ""
    """Parent directory of the experiment ("" = ./runs)."""
    experiment_name: str = ""
    """Sub-directory name ("" = "<timestamp>_<AgentClass>")."""
    write_interval: int = 250
    """Timesteps between two TensorBoard writes (0 = no TensorBoard)."""
    checkpoint_interval: int = 1000
    """Timesteps between two checkpoints (0 = no checkpoints)."""
    store_separately: bool = False
    """One file per module (policy_1000.pt, optimizer_1000.pt, ...) instead of agent_1000.pt."""
    wandb: bool = False
    """Also log to Weights & Biases (needs the wandb package)."""
    wandb_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of wandb.init."""

    def __post_init__(self) -> None:
        check_non_negative("write_interval", self.write_interval)
        check_non_negative("checkpoint_interval", self.checkpoint_interval)


@dataclass(kw_only=True)
class AgentConfig(Config):
    """Base of every agent's config: the ``experiment`` section."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    """Logging and checkpoint settings."""
