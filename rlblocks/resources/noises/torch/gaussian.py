"""`GaussianNoise`: independent N(mean, std^2) draws."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlblocks.resources.noises.torch.base import Noise, check_std


class GaussianNoise(Noise):
    """Independent normal noise, N(mean, std^2) in every element."""

    def __init__(self, mean: float, std: float, device: str | torch.device | None = None) -> None:
        """Set the distribution.

        Args:
            mean: the mean of every element.
            std: the standard deviation (>= 0; 0 gives the constant `mean`).
            device: "cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu".

        Raises:
            ValueError: a negative or infinite std.
        """
        super().__init__(device)
        check_std(std)
        self.mean = mean
        self.std = std

    def sample(self, size: Sequence[int] | torch.Size) -> torch.Tensor:
        """float32 noise of shape `size`: `mean + std * randn(size)`."""
        return torch.randn(size, device=self.device).mul_(self.std).add_(self.mean)
