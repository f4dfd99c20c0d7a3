"""Returns and advantages: GAE, time-limit bootstrapping, one-step TD targets.

Symbols: γ (``discount_factor``), λ (``gae_lambda``), V (state values), δ (TD error).
"""

from __future__ import annotations

import torch
from torch import Tensor


def bootstrap_truncated(
    rewards: Tensor, truncated: Tensor, next_values: Tensor, discount_factor: float
) -> Tensor:
    """Rewards with γ·V(s_final) added where an episode was cut by a time limit.

    A truncated episode did not end: the value of its final state stands for the rewards the
    time limit cut off (Pardo et al. 2018, "Time Limits in Reinforcement Learning").

    Args:
        rewards: (N, 1) rewards of one step.
        truncated: (N, 1) bool, the episodes cut by a time limit at this step.
        next_values: (N, 1) V(s_final), the value of each env's true final observation.
        discount_factor: γ.

    Returns:
        (N, 1) rewards; unchanged where not truncated.
    """
    return rewards + discount_factor * next_values * truncated


def compute_gae(
    rewards: Tensor,
    values: Tensor,
    last_values: Tensor,
    episode_ends: Tensor,
    discount_factor: float,
    gae_lambda: float,
) -> tuple[Tensor, Tensor]:
    """Advantages and λ-returns for one rollout (Schulman et al. 2016, eq. 16).

    δ_t = r_t + γ·(1 − end_t)·V_{t+1} − V_t and A_t = δ_t + γλ·(1 − end_t)·A_{t+1}, with
    V_T = ``last_values``. Truncated steps must already carry their bootstrap in ``rewards``
    (`bootstrap_truncated`), so every episode end, terminated or truncated, stops the recursion.

    Args:
        rewards: (T, N, 1).
        values: (T, N, 1) V(s_t) of the states the agent acted on.
        last_values: (N, 1) V(s_T), the state after the rollout's last step.
        episode_ends: (T, N, 1) bool, terminated or truncated at step t.
        discount_factor: γ.
        gae_lambda: λ in [0, 1].

    Returns:
        (advantages, returns), both (T, N, 1); returns = advantages + values; advantages are not
        normalised here.
    """
    continues = (~episode_ends.bool()).to(values.dtype)
    next_values = torch.cat([values[1:], last_values.unsqueeze(0)], dim=0)
    deltas = rewards + discount_factor * continues * next_values - values
    decays = discount_factor * gae_lambda * continues
    advantages = torch.empty_like(values)
    next_advantage = torch.zeros_like(last_values)
    for t in reversed(range(rewards.shape[0])):
        next_advantage = torch.addcmul(deltas[t], decays[t], next_advantage, out=advantages[t])
    return advantages, advantages + values


def td_target(rewards: Tensor, next_values: Tensor, terminated: Tensor, discount_factor: float) -> Tensor:
    """One-step target r + γ·(1 − terminated)·V(s'): only termination stops bootstrapping.

    Args:
        rewards: (B, 1).
        next_values: (B, 1) the bootstrap value of s' (e.g. min of target critics − α·log π).
        terminated: (B, 1) bool; a time-limit truncation is *not* terminal.
        discount_factor: γ.

    Returns:
        (B, 1) targets.
    """
    return rewards + discount_factor * (~terminated.bool()).to(next_values.dtype) * next_values
