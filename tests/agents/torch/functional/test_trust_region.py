import math

import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Normal, kl_divergence
from torch.func import functional_call

from rlblocks.agents.torch.functional.trust_region import (
    Trial,
    backtracking_line_search,
    conjugate_gradient,
    fisher_vector_product,
    flat_gradient,
    flat_parameters,
    max_kl_step,
    mean_kl,
    set_flat_parameters,
)


class TinyGaussian(nn.Module):
    """3 inputs -> 4 tanh -> 2 means, and a free log-std: a small Gaussian policy."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        self.log_std = nn.Parameter(torch.tensor([-0.3, 0.2]))

    def forward(self, states):
        mean = self.net(states)
        return Normal(mean, torch.exp(self.log_std).expand_as(mean))


class TinyCategorical(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))

    def forward(self, states):
        return Categorical(logits=self.net(states))


def detached(distribution):
    if isinstance(distribution, Normal):
        return Normal(distribution.loc.detach(), distribution.scale.detach())
    return Categorical(logits=distribution.logits.detach())


# ------------------------------------------------------------------ KL
def test_gaussian_kl_equals_torch_kl_summed_over_actions_and_averaged():
    """skrl 0.10 bug #16: its closed form uses log σ_old − log σ_new where log σ_new − log σ_old belongs."""
    torch.manual_seed(0)
    old_policy, new_policy = TinyGaussian(), TinyGaussian()
    with torch.no_grad():
        new_policy.log_std.copy_(torch.tensor([0.1, -0.5]))
    states = torch.randn(7, 3)
    old, new = old_policy(states), new_policy(states)

    kl = mean_kl(old, new)

    assert kl.item() == pytest.approx(kl_divergence(old, new).sum(-1).mean().item(), abs=1e-6)
    mean_old, std_old, mean_new, std_new = old.loc, old.scale, new.loc, new.scale
    closed_form = (
        torch.log(std_new / std_old) + (std_old**2 + (mean_old - mean_new) ** 2) / (2 * std_new**2) - 0.5
    )
    assert kl.item() == pytest.approx(closed_form.sum(-1).mean().item(), abs=1e-6)
    skrl_form = (
        torch.log(std_old / std_new) + (std_old**2 + (mean_old - mean_new) ** 2) / (2 * std_new**2) - 0.5
    )
    assert abs(skrl_form.sum(-1).mean().item() - kl.item()) > 1e-2


def test_kl_of_a_policy_with_itself_is_zero_and_categorical_kl_is_torchs():
    torch.manual_seed(1)
    states = torch.randn(5, 3)
    gaussian = TinyGaussian()(states)
    assert mean_kl(detached(gaussian), gaussian).item() == pytest.approx(0.0, abs=1e-7)
    old, new = TinyCategorical()(states), TinyCategorical()(states)
    assert mean_kl(old, new).item() == pytest.approx(kl_divergence(old, new).mean().item(), abs=1e-6)


# ------------------------------------------------------------------ conjugate gradient
def test_conjugate_gradient_solves_a_hand_computed_two_by_two_system():
    """[[4, 1], [1, 3]]·x = (1, 2) has x = (1/11, 7/11); CG is exact in two iterations."""
    matrix = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    x = conjugate_gradient(lambda v: matrix @ v, torch.tensor([1.0, 2.0], dtype=torch.float64), 2)
    torch.testing.assert_close(x, torch.tensor([1 / 11, 7 / 11], dtype=torch.float64), atol=1e-6, rtol=0)


def test_conjugate_gradient_solves_a_spd_system_and_stops_moving_once_solved():
    torch.manual_seed(0)
    factor = torch.randn(6, 6, dtype=torch.float64)
    matrix = factor @ factor.T + 6 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, dtype=torch.float64)
    expected = torch.linalg.solve(matrix, b)
    for iterations in (6, 20):  # more iterations than dimensions: no 0/0 once the residual is 0
        x = conjugate_gradient(lambda v: matrix @ v, b, iterations)
        assert torch.isfinite(x).all()
        assert (x - expected).abs().max().item() < 1e-6


# ------------------------------------------------------------------ Fisher-vector product
@pytest.mark.parametrize("policy_class", [TinyGaussian, TinyCategorical])
def test_fisher_vector_product_equals_the_autograd_hessian_of_the_kl_times_v_plus_damping(policy_class):
    torch.manual_seed(2)
    policy = policy_class().double()
    states = torch.randn(9, 3, dtype=torch.float64)
    names = [name for name, _ in policy.named_parameters()]
    parameters = list(policy.parameters())
    shapes = [parameter.shape for parameter in parameters]
    theta = flat_parameters(parameters)
    old = detached(policy(states))

    def kl_of(flat):
        chunks = torch.split(flat, [math.prod(shape) for shape in shapes])
        params = {name: chunk.view(shape) for name, chunk, shape in zip(names, chunks, shapes, strict=True)}
        return mean_kl(old, functional_call(policy, params, (states,)))

    hessian = torch.autograd.functional.hessian(kl_of, theta)
    vector = torch.randn_like(theta)
    damping = 0.1

    product = fisher_vector_product(mean_kl(old, policy(states)), parameters, damping)(vector)

    torch.testing.assert_close(product, hessian @ vector + damping * vector, atol=1e-8, rtol=1e-6)


def test_fisher_vector_product_is_reusable_for_several_vectors():
    torch.manual_seed(3)
    policy = TinyGaussian()
    states = torch.randn(4, 3)
    parameters = list(policy.parameters())
    product = fisher_vector_product(mean_kl(detached(policy(states)), policy(states)), parameters, 0.0)
    vector = torch.randn(sum(p.numel() for p in parameters))
    torch.testing.assert_close(product(2 * vector), 2 * product(vector))


def test_max_kl_step_puts_the_quadratic_kl_on_the_bound():
    """½·(βx)ᵀF(βx) = δ for β = sqrt(2δ / xᵀFx)."""
    fisher = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    direction = torch.tensor([0.3, -1.2], dtype=torch.float64)
    step = max_kl_step(direction, fisher @ direction, 0.01)
    assert (0.5 * step @ fisher @ step).item() == pytest.approx(0.01, rel=1e-12)
    assert torch.allclose(step / step.norm(), direction / direction.norm())


# ------------------------------------------------------------------ line search
def linear_step_search(improvements, kls=None, accept_ratio=0.5, max_kl=0.01, max_backtrack_steps=4):
    """A 1-D search from 0 along +1 with expected improvement 1; ``improvements[α]`` is the actual one."""
    kls = kls or {}

    def evaluate(candidate):
        step_size = candidate.item()
        return Trial(torch.tensor(improvements[step_size]), torch.tensor(kls.get(step_size, 0.0)))

    return backtracking_line_search(
        evaluate,
        torch.zeros(1),
        torch.ones(1),
        torch.tensor(0.0),
        torch.tensor(1.0),
        max_kl,
        accept_ratio,
        1.0,
        max_backtrack_steps,
    )


def test_line_search_compares_each_step_with_its_own_share_of_the_expected_improvement():
    """skrl 0.10 bug #16: it compares with ∏α·expected, so it would accept α = 1/4 here.

    Actual improvements 0.1, 0.2, 0.1, 0.1 at α = 1, 1/2, 1/4, 1/8 against α·1: ratios 0.1, 0.4, 0.4, 0.8,
    so α = 1/8 is the first to reach 0.5. Compounding gives 1, 1/2, 1/8, 1/64 as the expected
    improvements, so α = 1/4 (ratio 0.8) would pass.
    """
    result = linear_step_search({1.0: 0.1, 0.5: 0.2, 0.25: 0.1, 0.125: 0.1})
    assert result.is_accepted and result.step_size == 0.125 and result.num_trials == 4
    assert result.parameters.item() == 0.125


def test_line_search_rejects_a_step_beyond_the_kl_bound():
    result = linear_step_search({1.0: 1.0, 0.5: 0.5}, kls={1.0: 0.02, 0.5: 0.01})
    assert result.is_accepted and result.step_size == 0.5 and result.trial.kl.item() == pytest.approx(0.01)


def test_line_search_returns_the_old_parameters_when_no_step_is_accepted():
    improvements = {1.0: -1.0, 0.5: -0.5, 0.25: 0.0, 0.125: 0.01}
    result = linear_step_search(improvements)
    assert not result.is_accepted and result.num_trials == 4 and result.step_size == 0.0
    assert result.parameters.item() == 0.0 and result.trial is None


# ------------------------------------------------------------------ flat parameters
def test_flat_parameters_round_trip_and_flat_gradient_order():
    policy = TinyGaussian()
    parameters = list(policy.parameters())
    vector = torch.arange(sum(p.numel() for p in parameters), dtype=torch.float32)
    set_flat_parameters(vector, parameters)
    assert torch.equal(flat_parameters(parameters), vector)
    # a module's own parameters come before its sub-modules' (nn.Module.parameters order)
    assert torch.equal(policy.log_std.detach(), vector[:2])
    assert torch.equal(policy.net[0].weight.detach().reshape(-1), vector[2:14])
    gradient = flat_gradient((policy.log_std**2).sum(), parameters)
    assert torch.equal(gradient[:2], 2 * policy.log_std.detach()) and not gradient[2:].any()
    with pytest.raises(ValueError, match="the vector has 3 elements"):
        set_flat_parameters(torch.zeros(3), parameters)
