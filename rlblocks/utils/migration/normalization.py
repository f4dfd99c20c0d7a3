"""Observation and value normalisation statistics of a source checkpoint, in `RunningStandardScaler` form.

A migrated policy acts like the source one only if its inputs are normalised the same way. The
libraries write their formulas differently; each is converted exactly into the scaler's:

    normalise(x)   = clamp((x - mean) / (sqrt(variance) + epsilon), -clip_threshold, clip_threshold)
    denormalise(y) = sqrt(variance) * clamp(y, -clip_threshold, clip_threshold) + mean

- rl_games ``running_mean_std`` / ``value_mean_std``: ``clamp((x - m) / sqrt(v + 1e-5), ±5)``
  becomes variance = v + 1e-5, epsilon = 0, clip_threshold = 5.
- SB3 ``VecNormalize`` pickle (``obs_rms``): ``clip((x - m) / sqrt(v + eps), ±clip_obs)`` becomes
  variance = v + eps, epsilon = 0, clip_threshold = clip_obs.
- rlblocks/skrl agent checkpoints (``state_preprocessor`` / ``value_preprocessor``): the scaler's
  own buffers, with epsilon 1e-8 and clip_threshold 5 (the defaults; they are not saved).

SB3 ``.zip`` files hold no statistics (an ``MlpPolicy`` normalises nothing); they are in the
``vec_normalize.pkl`` that ``VecNormalize.save`` writes, when one was used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from rlblocks.utils.migration import rl_games, sb3
from rlblocks.utils.migration.sources import read_source
from rlblocks.utils.migration.structure import strip_wrappers

SCALER_DEFAULT_EPSILON, SCALER_DEFAULT_CLIP = 1e-8, 5.0
"""RunningStandardScaler's defaults, assumed for statistics saved by rlblocks or skrl agents."""

PREPROCESSOR_ENTRIES = {"observations": "state_preprocessor", "values": "value_preprocessor"}
"""Agent-checkpoint entries holding RunningStandardScaler state."""


@dataclass(frozen=True)
class NormalizationStatistics:
    """Running statistics in `RunningStandardScaler` form (see the module docstring's formulas).

    Attributes:
        mean: (size,) float64, the scaler's ``running_mean``.
        variance: (size,) float64, the scaler's ``running_variance``; it already includes any
            epsilon the source adds under the square root.
        count: () float64, the scaler's ``current_count`` (samples seen; only matters for further training).
        epsilon: the scaler's ``epsilon``, added to the standard deviation.
        clip_threshold: the scaler's ``clip_threshold``.
        origin: where the statistics came from, for messages ("rl_games running_mean_std").
    """

    mean: torch.Tensor
    variance: torch.Tensor
    count: torch.Tensor
    epsilon: float
    clip_threshold: float
    origin: str = ""

    @property
    def size(self) -> int:
        """The number of normalised features (the scaler's ``size``)."""
        return int(self.mean.numel())

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """``clamp((x - mean) / (sqrt(variance) + epsilon), ±clip_threshold)``; x: (..., size)."""
        mean, std = self._moments(x)
        return torch.clamp((x - mean) / (std + self.epsilon), -self.clip_threshold, self.clip_threshold)

    def denormalize(self, y: torch.Tensor) -> torch.Tensor:
        """``sqrt(variance) * clamp(y, ±clip_threshold) + mean``, in ``y``'s dtype; y is (..., size)."""
        mean, std = self._moments(y)
        return std * torch.clamp(y, -self.clip_threshold, self.clip_threshold) + mean

    def to_scaler(self, device: str | torch.device | None = None) -> Any:
        """A new `RunningStandardScaler(size, epsilon, clip_threshold, device)` holding these statistics."""
        from rlblocks.resources.preprocessors.torch import (
            RunningStandardScaler,
        )  # the scaler is optional here

        scaler = RunningStandardScaler(
            self.size, epsilon=self.epsilon, clip_threshold=self.clip_threshold, device=device
        )
        self.load_into(scaler)
        return scaler

    def load_into(self, scaler: torch.nn.Module) -> None:
        """Copy the statistics into an existing scaler's buffers, and its epsilon and clip threshold.

        Raises:
            ValueError: the scaler normalises a different number of features.
        """
        if tuple(scaler.running_mean.shape) != tuple(self.mean.shape):
            raise ValueError(
                f"the scaler normalises {tuple(scaler.running_mean.shape)} features but the {self.origin} "
                f"statistics are {tuple(self.mean.shape)}; build it with size={self.size} (or use to_scaler)."
            )
        with torch.no_grad():
            scaler.running_mean.copy_(self.mean)
            scaler.running_variance.copy_(self.variance)
            scaler.current_count.copy_(self.count)
        # exactness needs the source's epsilon and clip; they are plain attributes of the scaler
        scaler.epsilon = self.epsilon
        scaler.clip_threshold = self.clip_threshold

    def _moments(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.mean.to(device=like.device, dtype=like.dtype)
        std = torch.sqrt(self.variance).to(device=like.device, dtype=like.dtype)
        return mean, std


@dataclass(frozen=True)
class Normalization:
    """The statistics a source applies: to observations (before the networks), to values (after).

    Either is None when the source does not normalise it.
    """

    observations: NormalizationStatistics | None = None
    values: NormalizationStatistics | None = None


def load_normalization(
    state_dict: Mapping[str, Any] | None = None, path: str | os.PathLike | None = None
) -> Normalization:
    """The normalisation statistics of a checkpoint, in `RunningStandardScaler` form.

    Example:
        >>> normalization = load_normalization(path="runs/Ant/nn/Ant.pth")  # rl_games
        >>> state_preprocessor = normalization.observations.to_scaler(device="cpu")
        >>> value_preprocessor = normalization.values.to_scaler(device="cpu")
        >>> policy.act({"states": state_preprocessor(states)}, role="policy")

    Args:
        state_dict: an rl_games checkpoint or its ``"model"`` state dict, or an agent checkpoint;
            exclusive with ``path``.
        path: an rl_games ``.pth``, an SB3 ``VecNormalize`` pickle, an SB3 ``.zip`` (which holds no
            statistics) or an rlblocks/skrl agent checkpoint.

    Raises:
        ValueError: not exactly one of ``state_dict``/``path``, or an unreadable/unsafe file.
    """
    if path is not None and state_dict is None and os.path.isfile(path) and sb3.is_vec_normalize_file(path):
        return _from_vec_normalize(path)
    source = read_source(state_dict, path)
    tensors = {**source.tensors, **source.extras}
    found = {}
    for what, prefix in rl_games.STATISTICS_PREFIXES.items():
        statistics = rl_games.find_statistics(tensors, prefix)
        if statistics is not None:
            found[what] = NormalizationStatistics(
                mean=statistics.mean,
                variance=statistics.var + rl_games.EPSILON,
                count=statistics.count,
                epsilon=0.0,
                clip_threshold=rl_games.CLIP,
                origin=f"rl_games {prefix}",
            )
        elif (saved := _preprocessor_state(tensors, PREPROCESSOR_ENTRIES[what])) is not None:
            found[what] = saved
    return Normalization(**found)


def _from_vec_normalize(path: str | os.PathLike) -> Normalization:
    saved = sb3.read_vec_normalize(path)
    if not saved.norm_obs:
        return Normalization()
    statistics = NormalizationStatistics(
        mean=torch.as_tensor(saved.mean, dtype=torch.float64),
        variance=torch.as_tensor(saved.var, dtype=torch.float64) + saved.epsilon,
        count=torch.tensor(saved.count, dtype=torch.float64),
        epsilon=0.0,
        clip_threshold=saved.clip_obs,
        origin="stable-baselines3 VecNormalize obs_rms",
    )
    return Normalization(observations=statistics)


def _preprocessor_state(tensors: Mapping[str, torch.Tensor], entry: str) -> NormalizationStatistics | None:
    """A saved RunningStandardScaler's buffers under ``entry.`` (an rlblocks or skrl agent checkpoint)."""
    found = {
        strip_wrappers(name).removeprefix(f"{entry}."): tensor
        for name, tensor in tensors.items()
        if strip_wrappers(name).startswith(f"{entry}.")
    }
    if not {"running_mean", "running_variance"} <= set(found):
        return None
    return NormalizationStatistics(
        mean=found["running_mean"].to(torch.float64),
        variance=found["running_variance"].to(torch.float64),
        count=found.get("current_count", torch.tensor(1.0)).to(torch.float64).reshape(()),
        epsilon=SCALER_DEFAULT_EPSILON,
        clip_threshold=SCALER_DEFAULT_CLIP,
        origin=f"agent checkpoint {entry}",
    )
