"""Distribution maths used on every `act` call, written once as pure functions.

They compute what ``torch.distributions`` would, without building distribution objects (their
argument checks and broadcasting cost more than the maths at small batch sizes).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

Reduction = Callable[..., torch.Tensor] | None

REDUCTIONS: dict[str, Reduction] = {"mean": torch.mean, "sum": torch.sum, "prod": torch.prod, "none": None}


def reduction_from_name(name: str) -> Reduction:
    """The reduction over the action dimension for "mean", "sum", "prod" or "none".

    Raises:
        ValueError: any other name.
    """
    if name not in REDUCTIONS:
        raise ValueError(f"reduction must be one of 'mean', 'sum', 'prod' or 'none', got {name!r}")
    return REDUCTIONS[name]


def reduce_log_prob(log_prob: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    """Reduce (..., A) per-dimension log-densities to (..., 1); unchanged for reduction None."""
    if reduction is None:
        return log_prob
    return reduction(log_prob, dim=-1, keepdim=True)


def gaussian_log_prob(value: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Element-wise log N(value | mean, exp(log_std)²); shapes broadcast, e.g. (N, A) with (A,)."""
    return -0.5 * ((value - mean) * torch.exp(-log_std)) ** 2 - log_std - LOG_SQRT_2PI


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """Element-wise entropy of N(·, exp(log_std)²): 0.5 + log √(2π) + log_std."""
    return 0.5 + LOG_SQRT_2PI + log_std


def categorical_log_probs(net_output: torch.Tensor, unnormalized_log_prob: bool) -> torch.Tensor:
    """Normalised log-probabilities (N, n) from logits, or from (unnormalised) probabilities."""
    if unnormalized_log_prob:
        return torch.log_softmax(net_output, dim=-1)
    return torch.log(net_output / net_output.sum(dim=-1, keepdim=True))


def categorical_entropy(log_probs: torch.Tensor) -> torch.Tensor:
    """Entropy (N,) of categorical distributions given normalised log-probabilities (N, n)."""
    finite = log_probs.clamp_min(torch.finfo(log_probs.dtype).min)
    return -(finite * finite.exp()).sum(dim=-1)


def sample_categorical(log_probs: torch.Tensor) -> torch.Tensor:
    """One index per row (N, 1) int64, drawn with the Gumbel-max trick (no normalisation pass)."""
    gumbel = -torch.empty_like(log_probs).exponential_().log()
    return torch.argmax(log_probs + gumbel, dim=-1, keepdim=True)
