"""`Noise`: the base class of exploration noises, `sample(size)` and `sample_like(tensor)`."""

from __future__ import annotations

from collections.abc import Sequence

import torch


class Noise:
    """A source of noise tensors; subclasses implement `sample`.

    Attributes:
        device: where sampled tensors are created.
    """

    def __init__(self, device: str | torch.device | None = None) -> None:
        """Set the device ("cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu")."""
        if device is None:
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)

    def sample_like(self, tensor: torch.Tensor) -> torch.Tensor:
        """Noise of `tensor`'s shape (e.g. the actions it perturbs)."""
        return self.sample(tensor.shape)

    def sample(self, size: Sequence[int] | torch.Size) -> torch.Tensor:
        """Noise of shape `size`.

        Raises:
            NotImplementedError: always, in the base class.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.sample is not implemented; use GaussianNoise, OrnsteinUhlenbeckNoise "
            "or override sample()."
        )


def check_std(std: float) -> None:
    """Raise a ValueError unless `std` is a finite number >= 0."""
    if not 0 <= std < float("inf"):
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
