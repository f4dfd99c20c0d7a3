"""`OrnsteinUhlenbeckNoise`: temporally correlated noise, a discretised Ornstein-Uhlenbeck process.

Each call advances the state one step and returns it scaled:

    state <- state - theta * state + sigma * N(mean, std^2)
    noise  = base_scale * state

The state starts at 0, and returns to 0 on `reset()` (e.g. at an episode start) or when a
different `size` is requested.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlblocks.resources.noises.torch.base import Noise, check_std


class OrnsteinUhlenbeckNoise(Noise):
    """Ornstein-Uhlenbeck noise (see the module docstring).

    Attributes:
        state: the process state, a tensor of the last requested size (0 before the first sample).
    """

    def __init__(
        self,
        theta: float,
        sigma: float,
        base_scale: float,
        mean: float = 0,
        std: float = 1,
        device: str | torch.device | None = None,
    ) -> None:
        """Set the process.

        Args:
            theta: the pull back to 0 per step (typically 0.15).
            sigma: the scale of the random kicks (typically 0.2).
            base_scale: the factor applied to the returned state.
            mean: the mean of the kicks' normal draws.
            std: the standard deviation of the kicks' normal draws (>= 0).
            device: "cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu".

        Raises:
            ValueError: a negative or infinite std.
        """
        super().__init__(device)
        check_std(std)
        self.theta = theta
        self.sigma = sigma
        self.base_scale = base_scale
        self.mean = mean
        self.std = std
        self.state: torch.Tensor | float = 0

    def reset(self) -> None:
        """Return the state to 0."""
        self.state = 0

    def sample(self, size: Sequence[int] | torch.Size) -> torch.Tensor:
        """Advance the process one step and return `base_scale * state`, float32 of shape `size`."""
        size = torch.Size(size)
        if not torch.is_tensor(self.state) or self.state.shape != size:
            self.state = torch.zeros(size, device=self.device)
        kicks = torch.randn(size, device=self.device).mul_(self.std).add_(self.mean)
        self.state += -self.state * self.theta + self.sigma * kicks
        return self.base_scale * self.state
