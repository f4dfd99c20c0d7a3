import math

import pytest
import torch

from rlblocks.agents.torch.functional.losses import approximate_kl, clipped_surrogate_loss, clipped_value_loss


def test_clipped_surrogate_matches_hand_computed_values():
    """A = (1, −1), ρ = (1.5, 0.5), ε = 0.2: min(ρA, clip(ρ)A) = (1.2, −0.8), loss = −mean = −0.2."""
    old_log_prob = torch.zeros(2, 1)
    log_prob = torch.log(torch.tensor([[1.5], [0.5]]))
    advantages = torch.tensor([[1.0], [-1.0]])
    loss = clipped_surrogate_loss(log_prob, old_log_prob, advantages, 0.2)
    assert loss.item() == pytest.approx(-0.2, abs=1e-6)


def test_clipped_surrogate_gradient_vanishes_outside_the_trust_region():
    log_prob = torch.log(torch.tensor([[1.5]])).requires_grad_()
    clipped_surrogate_loss(log_prob, torch.zeros(1, 1), torch.ones(1, 1), 0.2).backward()
    assert log_prob.grad.item() == 0.0


def test_value_loss_clips_predictions_around_old_values():
    predicted = torch.tensor([[3.0]])
    old = torch.tensor([[1.0]])
    returns = torch.tensor([[0.0]])
    assert clipped_value_loss(predicted, old, returns, 0.5, False).item() == pytest.approx(9.0)
    assert clipped_value_loss(predicted, old, returns, 0.5, True).item() == pytest.approx(1.5**2)


def test_approximate_kl_is_zero_for_equal_policies_and_matches_k3():
    log_prob = torch.tensor([[math.log(2.0)]])
    assert approximate_kl(torch.zeros(3, 1), torch.zeros(3, 1)).item() == 0.0
    assert approximate_kl(log_prob, torch.zeros(1, 1)).item() == pytest.approx(1.0 - math.log(2.0))


def test_clipped_surrogate_stays_finite_for_extreme_log_ratios():
    log_prob = torch.tensor([[500.0], [-500.0]], requires_grad=True)
    loss = clipped_surrogate_loss(log_prob, torch.zeros(2, 1), torch.tensor([[-1.0], [1.0]]), 0.2)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(log_prob.grad).all()
