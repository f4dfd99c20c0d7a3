"""Exploration schedules: DQN's ε-greedy and DDPG/TD3's decaying noise scale (skrl 0.10's formulas).

Symbols: t (the timestep), T (the schedule's length in timesteps), ε (the probability of a random action).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def exponential_epsilon(timestep: int, initial: float, final: float, timesteps: int) -> float:
    """ε(t) = ε_final + (ε_initial − ε_final)·exp(−t / T): an exponential decay, as in skrl 0.10.

    ε falls to within 1/e of the way to ``final`` after T steps and to 5% after 3T (a linear
    schedule would reach ``final`` exactly at T).

    Args:
        timestep: t ≥ 0.
        initial: ε at t = 0.
        final: the value ε tends to.
        timesteps: T > 0.
    """
    return final + (initial - final) * math.exp(-timestep / timesteps)


def linear_noise_scale(timestep: int, initial: float, final: float, timesteps: int) -> float:
    """The factor on exploration noise: from ``initial`` at t = 0 down to ``final`` at t = T, then 0.

    scale(t) = (1 − t/T)·(initial − final) + final for t ≤ T; after T no noise is added (skrl 0.10).

    Args:
        timestep: t ≥ 0.
        initial: the scale at t = 0.
        final: the scale at t = T.
        timesteps: T ≥ 0.
    """
    if timestep > timesteps:
        return 0.0
    if timesteps == 0:
        return final
    return (1 - timestep / timesteps) * (initial - final) + final


def epsilon_greedy(greedy_actions: Tensor, epsilon: float, random_actions: Tensor) -> Tensor:
    """Each row a random action with probability ε, else the greedy one: (N, 1) int64 actions.

    Args:
        greedy_actions: (N, 1) argmax_a Q(s, a).
        epsilon: ε in [0, 1].
        random_actions: (N, 1) uniformly random actions, chosen for the rows that explore (a mask,
            so no host synchronisation is needed to know whether any row does).
    """
    is_random = torch.rand(greedy_actions.shape[0], 1, device=greedy_actions.device) < epsilon
    return torch.where(is_random, random_actions, greedy_actions)
