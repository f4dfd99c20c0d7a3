"""Policy-gradient losses: PPO's clipped surrogate, clipped value loss, approximate KL.

Every function takes (B, 1) tensors and returns a 0-d tensor.
"""

from __future__ import annotations

import torch
from torch import Tensor

MAX_LOG_RATIO = 20.0
"""Bound on log π/π_old inside the surrogate (exp(20) ≈ 5e8)."""


def clipped_surrogate_loss(
    log_prob: Tensor, old_log_prob: Tensor, advantages: Tensor, ratio_clip: float
) -> Tensor:
    """−E[min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A)] with ρ = π(a|s)/π_old(a|s) (Schulman et al. 2017, eq. 7).

    Args:
        log_prob: log π(a|s) under the current policy.
        old_log_prob: log π_old(a|s) recorded when acting.
        advantages: A(s, a).
        ratio_clip: ε.
    """
    # A log-ratio past ±MAX_LOG_RATIO (e.g. a clipped action deep in a narrowing Gaussian's tail)
    # would overflow exp() to inf and turn the loss into NaN; there the clipped term already
    # dominates, so bounding it changes no gradient that matters.
    ratio = torch.exp(torch.clamp(log_prob - old_log_prob, -MAX_LOG_RATIO, MAX_LOG_RATIO))
    surrogate = advantages * ratio
    clipped_surrogate = advantages * torch.clamp(ratio, 1.0 - ratio_clip, 1.0 + ratio_clip)
    return -torch.min(surrogate, clipped_surrogate).mean()


def clipped_value_loss(
    predicted_values: Tensor,
    old_values: Tensor,
    returns: Tensor,
    value_clip: float,
    clip_predicted_values: bool,
) -> Tensor:
    """Mean squared error between returns and predictions, optionally kept within ±clip of the old values.

    Args:
        predicted_values: V(s) under the current value function.
        old_values: V(s) recorded when acting.
        returns: λ-returns (targets).
        value_clip: the clip range around ``old_values``.
        clip_predicted_values: whether to clip at all.
    """
    if clip_predicted_values:
        predicted_values = old_values + torch.clamp(predicted_values - old_values, -value_clip, value_clip)
    return torch.nn.functional.mse_loss(returns, predicted_values)


def approximate_kl(log_prob: Tensor, old_log_prob: Tensor) -> Tensor:
    """KL(π_old ‖ π) estimated as E[(ρ − 1) − log ρ] (Schulman's k3 estimator; unbiased, ≥ 0)."""
    log_ratio = log_prob - old_log_prob
    return ((torch.exp(log_ratio) - 1) - log_ratio).mean()
