"""ε-greedy and noise-scale schedules (skrl 0.10's formulas), by hand."""

import math

import pytest
import torch

from rlblocks.agents.torch.functional.exploration import (
    epsilon_greedy,
    exponential_epsilon,
    linear_noise_scale,
)


def test_epsilon_decays_exponentially_from_initial_to_final():
    """ε(t) = 0.05 + 0.95·exp(−t/1000): 1 at t = 0, 0.05 + 0.95/e at t = 1000."""
    assert exponential_epsilon(0, 1.0, 0.05, 1000) == pytest.approx(1.0)
    assert exponential_epsilon(1000, 1.0, 0.05, 1000) == pytest.approx(0.05 + 0.95 / math.e)
    assert exponential_epsilon(3000, 1.0, 0.05, 1000) == pytest.approx(0.05 + 0.95 * math.exp(-3))
    assert exponential_epsilon(10**6, 1.0, 0.05, 1000) == pytest.approx(0.05)


def test_noise_scale_falls_linearly_then_stops():
    """initial 1, final 0.1, T = 100: 1 at 0, 0.55 halfway, 0.1 at T, 0 after."""
    assert linear_noise_scale(0, 1.0, 0.1, 100) == pytest.approx(1.0)
    assert linear_noise_scale(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert linear_noise_scale(100, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert linear_noise_scale(101, 1.0, 0.1, 100) == 0.0
    assert linear_noise_scale(0, 1.0, 0.1, 0) == pytest.approx(0.1)


def test_epsilon_greedy_takes_all_greedy_or_all_random_at_the_extremes():
    greedy = torch.zeros(1000, 1, dtype=torch.int64)
    random = torch.ones(1000, 1, dtype=torch.int64)
    assert torch.equal(epsilon_greedy(greedy, 0.0, random), greedy)
    assert torch.equal(epsilon_greedy(greedy, 1.0, random), random)
    torch.manual_seed(0)
    fraction = epsilon_greedy(greedy, 0.3, random).float().mean().item()
    assert fraction == pytest.approx(0.3, abs=0.05)
