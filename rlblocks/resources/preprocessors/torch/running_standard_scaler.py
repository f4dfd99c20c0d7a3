"""`RunningStandardScaler`: standardise inputs with a running mean and variance.

`forward(x)` returns `clamp((x - mean) / (sqrt(var) + epsilon), -clip, clip)`; with `train=True`
the statistics first absorb the batch, merged with the parallel-variance formula (Chan, Golub and
LeVeque 1979): for running (mean, var, count) and a batch (mean_b, var_b, n), with
delta = mean_b - mean and total = count + n,

    mean <- mean + delta * n / total
    var  <- (var * count + var_b * n + delta^2 * count * n / total) / total

var_b is the unbiased (ddof=1) batch variance, as in skrl and rl_games. The statistics start at
mean 0, variance 1, count 1 (one pseudo-sample), are float64 buffers (saved in `state_dict()`)
and are computed in float64.

Differs from skrl 0.10 (see docs/differences.md, "Resources"): a one-sample training batch adds
zero variance instead of NaN (which would poison the statistics for good); `epsilon` and
`clip_threshold` are validated; the output is float32 whatever the input dtype; under torchrun
(several ranks) each training batch is merged with those of the other ranks first
(`rlblocks.utils.distributed.pooled_moments`), so every rank holds the statistics of all the data
(skrl's ranks each keep their own, which drift apart).
"""

from __future__ import annotations

import torch
from torch import nn

from rlblocks.utils import distributed
from rlblocks.utils.spaces import SpaceLike, flat_size


class RunningStandardScaler(nn.Module):
    """Running standardisation of (N, size) or (T, N, size) inputs.

    Attributes:
        epsilon: added to the standard deviation before dividing; 0 is allowed (rl_games
            checkpoints fold their epsilon into `running_variance` instead).
        clip_threshold: outputs (and `inverse` inputs) are clamped to [-clip_threshold, clip_threshold].
        running_mean: (size,) float64 buffer.
        running_variance: (size,) float64 buffer.
        current_count: 0-d float64 buffer, the number of samples seen plus one.
    """

    running_mean: torch.Tensor
    running_variance: torch.Tensor
    current_count: torch.Tensor

    def __init__(
        self,
        size: SpaceLike,
        epsilon: float = 1e-8,
        clip_threshold: float = 5.0,
        device: str | torch.device | None = None,
    ) -> None:
        """Create the statistics: mean 0, variance 1, count 1.

        Args:
            size: the width of an input row: an int, a shape or a space (`flat_size`: a Discrete
                observation is one column).
            epsilon: see the class attributes (>= 0).
            clip_threshold: see the class attributes (> 0).
            device: "cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu".

        Raises:
            ValueError: a negative epsilon or a non-positive clip_threshold.
        """
        super().__init__()
        if not epsilon >= 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon!r}")
        if not clip_threshold > 0:
            raise ValueError(
                f"clip_threshold must be > 0, got {clip_threshold!r}; use float('inf') for no clipping"
            )
        if device is None:
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.epsilon = epsilon
        self.clip_threshold = clip_threshold

        width = flat_size(size)
        self.register_buffer("running_mean", torch.zeros(width, dtype=torch.float64, device=self.device))
        self.register_buffer("running_variance", torch.ones(width, dtype=torch.float64, device=self.device))
        self.register_buffer("current_count", torch.ones((), dtype=torch.float64, device=self.device))
        self._cache_key: tuple | None = None
        self._is_distributed = distributed.is_distributed()
        self._cache: tuple[torch.Tensor, torch.Tensor, torch.Tensor] = ()  # type: ignore[assignment]  # set on first use

    def forward(
        self, x: torch.Tensor, train: bool = False, inverse: bool = False, no_grad: bool = True
    ) -> torch.Tensor:
        """Standardise `x` (or undo it with `inverse`), after updating the statistics with `train`.

        Args:
            x: (N, size) or (T, N, size); a 3-D input updates the statistics over dims 0 and 1.
                (N, *shape) observations with ``size`` elements each (e.g. images) are read as
                (N, size) rows, and the result is (N, size).
            train: absorb `x` into the statistics first.
            inverse: return `sqrt(var) * clamp(x, -clip, clip) + mean` instead.
            no_grad: compute without autograd (the usual case); False lets gradients reach `x`.

        Returns:
            float32, the shape of `x` (of its rows, for (N, *shape) observations).
        """
        if no_grad:
            with torch.no_grad():
                return self._compute(x, train, inverse)
        return self._compute(x, train, inverse)

    def _compute(self, x: torch.Tensor, train: bool, inverse: bool) -> torch.Tensor:
        size = self._buffers["running_mean"].numel()
        if x.dim() > 2 and x.shape[-1] != size and x[0].numel() == size:
            x = x.reshape(x.shape[0], size)  # (N, *observation shape), e.g. (N, C, H, W) images: flat rows
        if train:
            self._update(x)
        mean, std, denominator = self._float32_statistics()
        if inverse:
            return std * x.float().clamp(-self.clip_threshold, self.clip_threshold) + mean
        return ((x.float() - mean) / denominator).clamp(-self.clip_threshold, self.clip_threshold)

    def _float32_statistics(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mean, std, std + epsilon) as float32, recomputed only when the buffers or epsilon change.

        Forward runs at every environment step, so the conversions are cached. The key notices
        in-place writes (the version counter), replaced buffers (`.to()`, assignment) and
        `.data` swaps (the data pointer).
        """
        mean64, variance64 = self._buffers["running_mean"], self._buffers["running_variance"]
        key = (
            id(mean64),
            mean64._version,
            mean64.data_ptr(),
            id(variance64),
            variance64._version,
            variance64.data_ptr(),
            self.epsilon,
        )
        if key != self._cache_key:
            std = variance64.float().sqrt()
            self._cache = (mean64.float(), std, std + self.epsilon)
            self._cache_key = key
        return self._cache

    @torch.no_grad()
    def _update(self, x: torch.Tensor) -> None:
        """Merge the batch statistics of `x` into the running ones (parallel-variance formula)."""
        rows = x.detach().to(torch.float64).reshape(-1, x.shape[-1])
        batch_count = rows.shape[0]
        if self._is_distributed:  # every rank's batch, merged: the statistics stay equal on all ranks
            batch_count, batch_mean, batch_variance = self._pooled_batch(rows)
            if not batch_count > 0:
                return
        else:
            if batch_count == 0:
                return
            batch_mean = rows.mean(dim=0)
            batch_variance = rows.var(dim=0) if batch_count > 1 else torch.zeros_like(batch_mean)
        delta = batch_mean - self.running_mean
        total = self.current_count + batch_count
        sum_of_squares = (
            self.running_variance * self.current_count
            + batch_variance * batch_count
            + delta.square() * self.current_count * batch_count / total
        )
        self.running_mean.add_(delta * batch_count / total)
        self.running_variance.copy_(sum_of_squares / total)
        self.current_count.copy_(total)

    @staticmethod
    def _pooled_batch(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(count, mean, unbiased variance) of every rank's (N_r, size) ``rows`` concatenated."""
        count = rows.shape[0]
        mean = rows.mean(dim=0) if count else rows.new_zeros(rows.shape[-1])
        variance = rows.var(dim=0) if count > 1 else torch.zeros_like(mean)
        return distributed.pooled_moments(count, mean, variance)
