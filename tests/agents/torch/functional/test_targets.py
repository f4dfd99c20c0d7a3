"""Bootstrap values of the off-policy targets, checked against numbers worked out by hand."""

import pytest
import torch

from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.functional.targets import (
    clipped_double_q,
    double_q_value,
    greedy_q_value,
    smoothed_target_actions,
    soft_state_value,
)


def column(*values):
    return torch.tensor(values, dtype=torch.float32).view(-1, 1)


def test_clipped_double_q_is_the_elementwise_minimum():
    assert torch.equal(clipped_double_q(column(1.0, 5.0), column(2.0, 3.0)), column(1.0, 3.0))
    assert torch.equal(clipped_double_q(column(4.0)), column(4.0))
    assert torch.equal(clipped_double_q(column(4.0), column(6.0), column(-1.0)), column(-1.0))


def test_soft_target_with_entropy_matches_hand_computed():
    """Q̄1 = [2, 1], Q̄2 = [3, 0.5], log π = [−1, 0.4], α = 0.5, r = [1, −1], γ = 0.9, terminated [F, T].

    V(s') = min(Q̄1, Q̄2) − α·log π = [2 + 0.5, 0.5 − 0.2] = [2.5, 0.3];
    y = r + γ·(1 − terminated)·V = [1 + 0.9·2.5, −1] = [3.25, −1].
    """
    values = soft_state_value([column(2.0, 1.0), column(3.0, 0.5)], column(-1.0, 0.4), torch.tensor(0.5))
    assert torch.allclose(values, column(2.5, 0.3))
    targets = td_target(column(1.0, -1.0), values, torch.tensor([[False], [True]]), 0.9)
    assert torch.allclose(targets, column(3.25, -1.0))


def test_truncation_bootstraps_and_termination_does_not():
    """r = 1, V(s') = 10, γ = 0.5: a truncated step (not terminated) gets 1 + 5 = 6, a terminated one 1."""
    terminated = torch.tensor([[False], [True]])
    assert torch.equal(td_target(column(1.0, 1.0), column(10.0, 10.0), terminated, 0.5), column(6.0, 1.0))


def test_target_smoothing_clips_the_noise_then_the_actions():
    """μ̄ = [[0.5, −0.9]], ε = [[0.8, −0.05]], c = 0.5, bounds ±1: [0.5 + 0.5, −0.9 − 0.05] = [1.0, −0.95];
    with μ̄ = [[0.9, 0]] and ε = [[0.3, 0.2]]: 0.9 + 0.3 = 1.2 is clamped to the bound 1."""
    low, high = torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0])
    actions = smoothed_target_actions(
        torch.tensor([[0.5, -0.9]]), torch.tensor([[0.8, -0.05]]), 0.5, low, high
    )
    assert torch.allclose(actions, torch.tensor([[1.0, -0.95]]))
    actions = smoothed_target_actions(torch.tensor([[0.9, 0.0]]), torch.tensor([[0.3, 0.2]]), 0.5, low, high)
    assert torch.allclose(actions, torch.tensor([[1.0, 0.2]]))


def test_zero_noise_clip_turns_smoothing_off():
    actions = torch.tensor([[0.25, -0.5]])
    smoothed = smoothed_target_actions(actions, torch.randn(1, 2), 0.0, -torch.ones(2), torch.ones(2))
    assert torch.equal(smoothed, actions)


def test_dqn_and_double_dqn_bootstrap_values_differ_where_the_networks_disagree():
    """Row 0: online Q(s') = [1, 3, 2] picks action 1; target Q̄(s') = [4, 0, 5].

    DQN: max Q̄ = 5. DDQN: Q̄ at the online argmax (action 1) = 0.
    Row 1: both networks prefer action 0, so both give Q̄ = 7.
    """
    online = torch.tensor([[1.0, 3.0, 2.0], [9.0, 1.0, 1.0]])
    target = torch.tensor([[4.0, 0.0, 5.0], [7.0, 2.0, 3.0]])
    assert torch.equal(greedy_q_value(target), column(5.0, 7.0))
    assert torch.equal(double_q_value(online, target), column(0.0, 7.0))


@pytest.mark.parametrize("discount_factor", [0.0, 0.99])
def test_dqn_target_of_a_three_transition_batch(discount_factor):
    """Q̄(s') rows [1, 2], [−3, −4], [0, 0.5]; r = [1, 0, −1]; terminated [F, F, T].

    y = r + γ·max Q̄·(1 − terminated) = [1 + 2γ, −3γ, −1].
    """
    target = torch.tensor([[1.0, 2.0], [-3.0, -4.0], [0.0, 0.5]])
    terminated = torch.tensor([[False], [False], [True]])
    targets = td_target(column(1.0, 0.0, -1.0), greedy_q_value(target), terminated, discount_factor)
    expected = column(1 + 2 * discount_factor, -3 * discount_factor, -1.0)
    assert torch.allclose(targets, expected)
