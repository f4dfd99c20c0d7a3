"""The losses of one on-policy mini-batch, and their running sums over an update (kept on the device)."""

from __future__ import annotations

from typing import NamedTuple

import torch


class Losses(NamedTuple):
    """The losses of one mini-batch and its approximate KL, all 0-d tensors."""

    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        """What the optimizer minimises."""
        return self.policy + self.value + self.entropy


class LossTotals:
    """Sums of the (detached) `Losses` of the mini-batches an update ran, on the device."""

    def __init__(self, device: torch.device | str) -> None:
        self.sums = torch.zeros(len(Losses._fields), device=device)
        self.num_batches = 0

    def add(self, losses: Losses) -> None:
        """Add one mini-batch's losses (no host synchronisation)."""
        self.sums += torch.stack([loss.detach() for loss in losses])
        self.num_batches += 1

    def mean(self) -> Losses | None:
        """The mean losses over the mini-batches added, or None if none was."""
        if self.num_batches == 0:
            return None
        return Losses(*(self.sums / self.num_batches))
