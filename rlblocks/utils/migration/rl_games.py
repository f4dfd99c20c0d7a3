"""rl_games checkpoints: the model state dict and its normalisation statistics.

An rl_games ``.pth`` is one ``torch.save`` of a dict: ``"model"`` holds the network
(``a2c_network.*``) and, with ``normalize_input`` / ``normalize_value``, the running statistics
``running_mean_std.{running_mean, running_var, count}`` (observations) and ``value_mean_std.*``
(values). Beside it: ``epoch``, ``frame``, ``optimizer``, ``last_mean_rewards`` (a numpy scalar),
``env_state``, and sometimes a separate ``running_mean_std`` entry.

rl_games normalises observations with ``clamp((x - mean) / sqrt(var + 1e-5), -5, 5)`` and
de-normalises values with ``sqrt(var + 1e-5) * clamp(v, -5, 5) + mean``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch

from rlblocks.utils.migration.structure import strip_wrappers

MODEL_KEY = "model"
"""The checkpoint entry holding the model's state dict."""

EXTRA_KEYS = ("running_mean_std",)
"""Top-level entries that may hold statistics saved apart from the model."""

STATISTICS_PREFIXES = {"observations": "running_mean_std", "values": "value_mean_std"}
"""Which module of the model normalises what."""

STATISTICS_LEAVES = {"running_mean": "mean", "running_var": "var", "count": "count"}
"""rl_games' RunningMeanStd buffer names -> `RunningStatistics` fields."""

EPSILON = 1e-5
"""rl_games' RunningMeanStd epsilon, added to the variance under the square root."""

CLIP = 5.0
"""rl_games clamps normalised observations and values to [-CLIP, CLIP]."""


class RunningStatistics(NamedTuple):
    """One rl_games ``RunningMeanStd``: mean and variance (size,) float64, count 0-d float64."""

    mean: torch.Tensor
    var: torch.Tensor
    count: torch.Tensor


def is_checkpoint(content: Mapping[str, Any]) -> bool:
    """Whether a loaded dict is an rl_games checkpoint: a ``"model"`` entry that is a state dict."""
    model = content.get(MODEL_KEY)
    return isinstance(model, Mapping) and any(torch.is_tensor(value) for value in model.values())


def split_checkpoint(content: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """``(model state dict, {extra entry: its mapping})`` of an rl_games checkpoint."""
    extras = {key: content[key] for key in EXTRA_KEYS if isinstance(content.get(key), Mapping)}
    return content[MODEL_KEY], extras


def find_statistics(tensors: Mapping[str, torch.Tensor], prefix: str) -> RunningStatistics | None:
    """The ``<prefix>.{running_mean, running_var, count}`` tensors, wrapper prefixes ignored.

    Returns None when the model has no such statistics (normalisation was off).
    """
    found = {}
    for name, tensor in tensors.items():
        stripped = strip_wrappers(name)
        owner, _, leaf = stripped.rpartition(".")
        if owner == prefix and leaf in STATISTICS_LEAVES:
            found[STATISTICS_LEAVES[leaf]] = tensor
    if not {"mean", "var"} <= set(found):
        return None
    count = found.get("count", torch.tensor(1.0, dtype=torch.float64))
    return RunningStatistics(
        mean=found["mean"].to(torch.float64),
        var=found["var"].to(torch.float64),
        count=count.to(torch.float64).reshape(()),
    )
