"""Tanh squashing of Gaussian actions into a Box, and its log-density correction (SAC paper, appendix C).

A Gaussian sample u is squashed to a = low + (tanh(u) + 1)·(high − low)/2. The density of the
squashed action in [−1, 1]^A is log π(tanh u) = log N(u) − Σ_i log(1 − tanh²(u_i)); the constant
Σ log((high − low)/2) of the final affine map is left out, as stable-baselines3 does, so a target
entropy of −dim(A) means the same whatever the bounds.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_2 = math.log(2.0)


def squash(unbounded: Tensor, low: Tensor, high: Tensor) -> Tensor:
    """Map (N, A) unbounded values into [low, high] per dimension with tanh."""
    return low + (torch.tanh(unbounded) + 1.0) * (0.5 * (high - low))


def tanh_log_det_jacobian(unbounded: Tensor) -> Tensor:
    """Σ_i log(1 − tanh²(u_i)) as (N, 1), what squashing subtracts from log N(u).

    Written as 2·(log 2 − u − softplus(−2u)), which stays finite where tanh(u) rounds to ±1.
    """
    per_dimension = 2.0 * (LOG_2 - unbounded - torch.nn.functional.softplus(-2.0 * unbounded))
    return per_dimension.sum(dim=-1, keepdim=True)
