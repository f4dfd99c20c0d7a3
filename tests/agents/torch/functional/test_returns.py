import pytest
import torch

from rlblocks.agents.torch.functional.returns import bootstrap_truncated, compute_gae, td_target


def column(*values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype).view(-1, 1, 1)


def test_gae_matches_hand_computed_three_step_episode():
    """γ = λ = 0.5, r = (1, 2, 3), V = (0.5, 1, 1.5), V_T = 2, no episode end.

    δ2 = 3 + 0.5·2 − 1.5 = 2.5                 A2 = 2.5
    δ1 = 2 + 0.5·1.5 − 1 = 1.75                A1 = 1.75 + 0.25·2.5 = 2.375
    δ0 = 1 + 0.5·1 − 0.5 = 1                   A0 = 1 + 0.25·2.375 = 1.59375
    """
    advantages, returns = compute_gae(
        column(1, 2, 3),
        column(0.5, 1.0, 1.5),
        torch.tensor([[2.0]]),
        column(0, 0, 0, dtype=torch.bool),
        0.5,
        0.5,
    )
    assert advantages.view(-1).tolist() == [1.59375, 2.375, 2.5]
    assert returns.view(-1).tolist() == [2.09375, 3.375, 4.0]


def test_gae_with_truncation_bootstraps_final_state_and_stops_recursion():
    """Truncated at t=1 with V(s_final) = 4: r1' = 2 + 0.5·4 = 4, so A1 = 4 − 1 = 3 and A0 = 1 + 0.25·3."""
    rewards = column(1, 2, 3)
    truncated = column(0, 1, 0, dtype=torch.bool)
    next_values = column(9, 4, 9)  # only the truncated step's value may be used
    bootstrapped = torch.stack(
        [bootstrap_truncated(rewards[t], truncated[t], next_values[t], 0.5) for t in range(3)]
    )
    assert bootstrapped.view(-1).tolist() == [1.0, 4.0, 3.0]
    advantages, _ = compute_gae(
        bootstrapped, column(0.5, 1.0, 1.5), torch.tensor([[2.0]]), truncated, 0.5, 0.5
    )
    assert advantages.view(-1).tolist() == [1.75, 3.0, 2.5]


def test_gae_termination_does_not_bootstrap():
    """Terminated at t=1: A1 = r1 − V1 = 1, A0 = 1 + 0.25·1 = 1.25."""
    advantages, _ = compute_gae(
        column(1, 2, 3),
        column(0.5, 1.0, 1.5),
        torch.tensor([[2.0]]),
        column(0, 1, 0, dtype=torch.bool),
        0.5,
        0.5,
    )
    assert advantages.view(-1).tolist() == [1.25, 1.0, 2.5]


def test_gae_with_lambda_one_equals_discounted_return_minus_value():
    rewards = torch.rand(5, 3, 1)
    values = torch.rand(5, 3, 1)
    last_values = torch.rand(3, 1)
    ends = torch.zeros(5, 3, 1, dtype=torch.bool)
    _, returns = compute_gae(rewards, values, last_values, ends, 0.9, 1.0)
    expected = last_values.clone()
    for t in reversed(range(5)):
        expected = rewards[t] + 0.9 * expected
        assert torch.allclose(returns[t], expected, atol=1e-6)


def test_td_target_stops_only_at_termination():
    rewards = torch.tensor([[1.0], [1.0]])
    next_values = torch.tensor([[10.0], [10.0]])
    terminated = torch.tensor([[False], [True]])
    assert td_target(rewards, next_values, terminated, 0.9).view(-1).tolist() == pytest.approx([10.0, 1.0])
