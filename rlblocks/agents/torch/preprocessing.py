"""Building the state/value preprocessors an agent's config names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


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
