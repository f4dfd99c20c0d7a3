"""Config sections every agent shares: ``experiment`` (logging and checkpoints), and key groups.

The key groups (`SchedulerKeys`, `StatePreprocessorKeys`, `WarmUpKeys`) are dataclass mixins: an
agent's config lists the groups it has among its bases, so each key is declared (and documented)
once for every agent that has it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from rlblocks.utils.config import Config, check_non_negative
from rlblocks.utils.load_errors import short_repr


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
    mlflow: bool = False
    """Also log the metrics to MLflow (needs mlflow or mlflow-skinny). Not in skrl 0.10."""
    mlflow_kwargs: dict[str, Any] = field(default_factory=dict)
    """tracking_uri and experiment_name (applied first), and keyword arguments of mlflow.start_run."""

    def __post_init__(self) -> None:
        check_non_negative("write_interval", self.write_interval)
        check_non_negative("checkpoint_interval", self.checkpoint_interval)


@dataclass(kw_only=True)
class AgentConfig(Config):
    """Base of every agent's config: the ``experiment`` section."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    """Logging and checkpoint settings."""
    non_finite: str = "raise"
    """What a NaN or inf observation, reward or loss does: "raise" (a NonFiniteError naming the env,
    the step, the tensor and the envs) or "warn-and-skip" (a warning; the step is not stored, the
    optimizer step is skipped) for envs known to emit NaN at reset. Not in skrl 0.10."""


@dataclass(kw_only=True)
class SchedulerKeys:
    """``learning_rate_scheduler`` and its kwargs."""

    learning_rate_scheduler: Any = None
    """A scheduler class (e.g. KLAdaptiveRL, LinearLR), built as cls(optimizer, **kwargs) per optimizer."""
    learning_rate_scheduler_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the scheduler."""


@dataclass(kw_only=True)
class StatePreprocessorKeys:
    """``state_preprocessor`` and its kwargs."""

    state_preprocessor: Any = None
    """A preprocessor class (e.g. RunningStandardScaler) for observations."""
    state_preprocessor_kwargs: dict[str, Any] = field(default_factory=dict)
    """Its keyword arguments; size and device default to the observation space and the agent's device."""


@dataclass(kw_only=True)
class WarmUpKeys:
    """``random_timesteps``, ``learning_starts`` and ``rewards_shaper`` (see `check_warm_up_keys`)."""

    random_timesteps: int = 0
    """Initial timesteps with uniformly random actions (while training)."""
    learning_starts: int = 0
    """Timesteps before the first update."""
    rewards_shaper: Callable[..., Any] | None = None
    """f(rewards, timestep, timesteps) -> shaped rewards, applied to what the agent stores and learns from."""


@dataclass(kw_only=True)
class GradientAgentKeys(WarmUpKeys, StatePreprocessorKeys, SchedulerKeys):
    """The key groups of every agent trained by gradient steps (on-policy, off-policy, CEM)."""


def check_warm_up_keys(config: WarmUpKeys) -> None:
    """Check the warm-up keys, and every class or callable key of the config (`check_class_keys`).

    Raises:
        ValueError: ``random_timesteps`` or ``learning_starts`` is negative.
        TypeError: see `check_class_keys`.
    """
    check_non_negative("random_timesteps", config.random_timesteps)
    check_non_negative("learning_starts", config.learning_starts)
    check_class_keys(config)


def check_class_keys(config: Any) -> None:
    """Refuse a string or an instance where a class (preprocessors, schedulers) or a callable is expected.

    The keys ending in ``_preprocessor`` or ``_scheduler`` name a class the agent builds (with its
    ``*_kwargs``); ``rewards_shaper`` is a function of (rewards, timestep, timesteps).

    Raises:
        TypeError: naming the key, the value received and what to pass instead.
    """
    for item in fields(config):
        value = getattr(config, item.name)
        if value is None:
            continue
        if item.name.endswith(("_preprocessor", "_scheduler")):
            _check_class(item.name, value)
        elif item.name == "rewards_shaper" and (isinstance(value, str) or not callable(value)):
            raise TypeError(
                f'config key "rewards_shaper" must be a function f(rewards, timestep, timesteps) -> rewards, '
                f"got {short_repr(value)} ({type(value).__name__}); e.g. "
                'cfg["rewards_shaper"] = lambda rewards, timestep, timesteps: rewards * 0.01'
            )


def _check_class(name: str, value: Any) -> None:
    example = (
        "RunningStandardScaler (from rlblocks.resources.preprocessors.torch)"
        if name.endswith("_preprocessor")
        else "KLAdaptiveRL (from rlblocks.resources.schedulers.torch) or torch.optim.lr_scheduler.LinearLR"
    )
    if isinstance(value, str):
        raise TypeError(
            f'config key "{name}" must be a class, got the string {short_repr(value)}; pass the class '
            f"itself, e.g. {example}, not its name"
        )
    if isinstance(value, type) or (callable(value) and not isinstance(value, torch.nn.Module)):
        return  # a class, or a factory such as functools.partial
    raise TypeError(
        f'config key "{name}" must be a class (the agent builds it with "{name}_kwargs"), got an instance '
        f"of {type(value).__name__}; pass the class, e.g. {example}, and its arguments in "
        f'cfg["{name}_kwargs"]'
    )
