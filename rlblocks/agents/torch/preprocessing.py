"""Building the state/value preprocessors and learning-rate schedulers an agent's config names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from rlblocks.resources.schedulers.torch import KLAdaptiveRL


def identity_preprocessor(tensor: torch.Tensor, train: bool = False, inverse: bool = False) -> torch.Tensor:
    """The preprocessor used when none is configured: returns its input."""
    return tensor


def build_preprocessor(
    preprocessor_class: Any, kwargs: Mapping[str, Any], default_size: Any, device: torch.device
) -> Any:
    """``preprocessor_class(**kwargs)``, filling ``size`` and ``device`` when the config omits them.

    Returns `identity_preprocessor` when ``preprocessor_class`` is None.
    """
    if preprocessor_class is None:
        return identity_preprocessor
    kwargs = {"size": default_size, "device": device, **kwargs}
    return preprocessor_class(**kwargs)


def build_scheduler(scheduler_class: Any, optimizer: torch.optim.Optimizer, kwargs: Mapping[str, Any]) -> Any:
    """``scheduler_class(optimizer, **kwargs)``, or None when no scheduler is configured."""
    return None if scheduler_class is None else scheduler_class(optimizer, **kwargs)


def step_scheduler(scheduler: Any, kl_divergences: list[float]) -> None:
    """Step a scheduler once; a KL-adaptive one receives the mean approximate KL of the epoch."""
    if scheduler is None:
        return
    if isinstance(scheduler, KLAdaptiveRL):
        scheduler.step(sum(kl_divergences) / max(len(kl_divergences), 1))
    else:
        scheduler.step()
