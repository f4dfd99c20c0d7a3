"""Tanh squashing and its log-density correction, against torch.distributions."""

import torch
from torch.distributions import Normal, TanhTransform, TransformedDistribution

from rlblocks.agents.torch.functional.squashing import squash, tanh_log_det_jacobian


def test_squash_maps_onto_each_dimensions_bounds():
    low, high = torch.tensor([-2.0, 0.0]), torch.tensor([2.0, 10.0])
    unbounded = torch.tensor([[0.0, 0.0], [50.0, -50.0]])
    assert torch.allclose(squash(unbounded, low, high), torch.tensor([[0.0, 5.0], [2.0, 0.0]]))


def test_corrected_log_prob_equals_the_tanh_transformed_normal():
    """log N(u) − Σ log(1 − tanh² u) is the density of tanh(u) in [−1, 1]^A."""
    torch.manual_seed(0)
    mean, std = torch.randn(5, 3), torch.rand(5, 3) + 0.1
    unbounded = mean + std * torch.randn(5, 3)
    ours = Normal(mean, std).log_prob(unbounded).sum(-1, keepdim=True) - tanh_log_det_jacobian(unbounded)
    reference = TransformedDistribution(Normal(mean, std), [TanhTransform()])
    expected = reference.log_prob(torch.tanh(unbounded)).sum(-1, keepdim=True)
    assert torch.allclose(ours, expected, atol=1e-4)


def test_log_det_stays_finite_where_tanh_saturates():
    """At u = 20, tanh(u) rounds to 1 in float32; the stable form gives 2·(log 2 − 20 − softplus(−40))."""
    value = tanh_log_det_jacobian(torch.tensor([[20.0, -20.0]]))
    assert torch.isfinite(value).all()
    expected = 2 * (2 * (torch.log(torch.tensor(2.0)) - 20.0))
    assert torch.allclose(value, expected.view(1, 1), atol=1e-4)
