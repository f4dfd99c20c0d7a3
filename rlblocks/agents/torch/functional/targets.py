"""Bootstrap values V(s') of the off-policy agents' one-step targets.

Each function gives the (B, 1) value of the next states that `returns.td_target` turns into
``r + γ·(1 − terminated)·V(s')``. Symbols: Q̄ (target critic), Q (online critic), α (entropy
coefficient), μ̄ (target policy).
"""

from __future__ import annotations

import torch
from torch import Tensor


def clipped_double_q(*q_values: Tensor) -> Tensor:
    """The element-wise minimum of several critics' (B, 1) estimates (Fujimoto et al. 2018, eq. 10).

    Taking the smaller of two independent estimates counters the overestimation a maximising
    policy builds on a single critic's errors.
    """
    if len(q_values) == 1:
        return q_values[0]
    minimum = torch.minimum(q_values[0], q_values[1])
    for q_value in q_values[2:]:
        minimum = torch.minimum(minimum, q_value)
    return minimum


def soft_state_value(
    next_q_values: list[Tensor], next_log_prob: Tensor, entropy_coefficient: Tensor
) -> Tensor:
    """SAC's soft value V(s') = min_k Q̄_k(s', a') − α·log π(a'|s'), a' ~ π(·|s') (Haarnoja 2018, eq. 3).

    Args:
        next_q_values: each target critic's (B, 1) Q̄_k(s', a').
        next_log_prob: (B, 1) log π(a'|s').
        entropy_coefficient: α, a 0-d or (1,) tensor (or a float).
    """
    return clipped_double_q(*next_q_values) - entropy_coefficient * next_log_prob


def smoothed_target_actions(
    target_actions: Tensor, noise: Tensor, noise_clip: float, low: Tensor, high: Tensor
) -> Tensor:
    """TD3's target policy smoothing: clamp(μ̄(s') + clamp(ε, −c, c), low, high) (Fujimoto 2018, eq. 14).

    Args:
        target_actions: (B, A) μ̄(s').
        noise: (B, A) ε, drawn by the caller (e.g. N(0, 0.2²)).
        noise_clip: c ≥ 0; 0 disables smoothing.
        low: (A,) lower action bounds.
        high: (A,) upper action bounds.
    """
    noise = torch.clamp(noise, -noise_clip, noise_clip)
    return torch.clamp(target_actions + noise, low, high)


def greedy_q_value(target_q_values: Tensor) -> Tensor:
    """DQN's bootstrap value max_a Q̄(s', a) (Mnih et al. 2015): (B, n_actions) -> (B, 1)."""
    return target_q_values.max(dim=1, keepdim=True).values


def double_q_value(online_q_values: Tensor, target_q_values: Tensor) -> Tensor:
    """Double DQN's bootstrap value Q̄(s', argmax_a Q(s', a)) (van Hasselt et al. 2016, eq. 4).

    The online network chooses the action and the target network rates it, so one network's
    overestimated action is not also rated by that network.

    Args:
        online_q_values: (B, n_actions) Q(s', ·).
        target_q_values: (B, n_actions) Q̄(s', ·).

    Returns:
        (B, 1).
    """
    return target_q_values.gather(1, online_q_values.argmax(dim=1, keepdim=True))
