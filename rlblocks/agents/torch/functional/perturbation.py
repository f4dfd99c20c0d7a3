"""RPO's uniform perturbation of a Gaussian mean (Rahman & Xue 2022, arXiv:2212.07536).

Symbols: μ (the policy's mean), σ (its std), a (a taken action), u ~ U(−α, α) per action dimension.
"""

from __future__ import annotations

import torch
from torch import Tensor


def uniform_perturbation(like: Tensor, alpha: float) -> Tensor:
    """Draw u ~ U(−α, α), one draw per element of ``like`` (same shape, dtype and device)."""
    return torch.empty_like(like).uniform_(-alpha, alpha)


def shift_for_perturbed_mean(taken_actions: Tensor, perturbation: Tensor) -> Tensor:
    """The actions a − u, whose log-density under N(μ, σ²) is that of a under N(μ + u, σ²).

    A Gaussian density depends on a − μ only, so log N(a | μ + u, σ²) = log N(a − u | μ, σ²): a
    policy evaluated on the shifted actions gives the perturbed-mean log-prob with its own log-std
    clamping and reduction. Both tensors are (B, A).
    """
    return taken_actions - perturbation
