"""Optimizers the agents build: Adam, in its fastest implementation for the parameters' device."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def adam(parameters: Iterable[torch.nn.Parameter], learning_rate: float) -> torch.optim.Adam:
    """``torch.optim.Adam`` over ``parameters``, fused (one kernel for all tensors) where torch supports it.

    The fused implementation computes the same update as the per-tensor loop; on CPU it is about
    3x faster for small networks, which matters because agents take thousands of small steps.
    """
    parameters = list(parameters)
    devices = {parameter.device.type for parameter in parameters}
    is_fusable = bool(parameters) and devices <= {"cpu", "cuda"} and len(devices) == 1
    is_fusable = is_fusable and all(parameter.is_floating_point() for parameter in parameters)
    return torch.optim.Adam(parameters, lr=learning_rate, fused=is_fusable or None)
