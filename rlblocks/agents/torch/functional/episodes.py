"""Discounted returns of whole episodes inside a block of steps (the Cross-Entropy Method's scores).

Symbols: γ (``discount_factor``), G (the discounted return of an episode, from its first step:
G = Σ_k γ^k·r_k, so the episode's first reward is weighted by γ^0).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class EpisodeReturns(NamedTuple):
    """Per step of a (T, N, 1) block: which episode it belongs to and that episode's score.

    Attributes:
        returns: (T, N, 1) G of the episode the step belongs to, counted from the episode's first
            step in the block (meaningful where ``is_finished``).
        is_finished: (T, N, 1) bool, the step's episode ends within the block.
        is_first: (T, N, 1) bool, the step starts an episode in the block (t = 0 or the step
            after an episode end).
    """

    returns: Tensor
    is_finished: Tensor
    is_first: Tensor


def episode_returns(rewards: Tensor, episode_ends: Tensor, discount_factor: float) -> EpisodeReturns:
    """Discounted return of every episode in a block of steps, given to each of its steps.

    Each env (column) is split at its episode ends (terminated or truncated at step t closes the
    episode after step t). Backwards, G_t = r_t + γ·(1 − end_t)·G_{t+1} is the return from step
    t to the end of its episode; forwards, each step takes G of its episode's first step. The
    episode still running at the end of the block is not finished; its partial G is returned but
    flagged by ``is_finished``.

    Args:
        rewards: (T, N, 1).
        episode_ends: (T, N, 1) bool, terminated or truncated at step t.
        discount_factor: γ in [0, 1].

    Returns:
        `EpisodeReturns`, every field (T, N, 1).
    """
    ends = episode_ends.bool()
    continues = (~ends).to(rewards.dtype)
    num_steps = rewards.shape[0]
    from_here = torch.empty_like(rewards)
    is_finished = torch.empty_like(ends)
    next_return = torch.zeros_like(rewards[0])
    next_finished = torch.zeros_like(ends[0])
    for t in reversed(range(num_steps)):
        next_return = torch.addcmul(rewards[t], continues[t], next_return, value=discount_factor)
        next_finished = ends[t] | next_finished
        from_here[t], is_finished[t] = next_return, next_finished
    is_first = torch.cat([torch.ones_like(ends[:1]), ends[:-1]], dim=0)
    returns = torch.empty_like(rewards)
    episode_return = from_here[0]
    for t in range(num_steps):
        episode_return = torch.where(is_first[t], from_here[t], episode_return)
        returns[t] = episode_return
    return EpisodeReturns(returns, is_finished, is_first)
