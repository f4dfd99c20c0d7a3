"""`MultivariateGaussianMixin` against `MultivariateNormal(mean, scale_tril=diag(σ))` on fixed numbers."""

import inspect
import math

import gymnasium
import numpy as np
import torch
from torch.distributions import MultivariateNormal

from rlblocks.models.torch import MultivariateGaussianMixin
from tests.models.torch.models import FixedMultivariateGaussian

MEAN = torch.tensor([[0.0, 1.0, -2.0], [0.5, -0.5, 3.0]])
LOG_STD = torch.tensor([-0.5, 0.0, 10.0])  # 10 is clamped to 2
CLAMPED_LOG_STD = torch.tensor([-0.5, 0.0, 2.0])
TAKEN = torch.tensor([[0.1, 2.0, -1.0], [1.5, -0.5, 0.0]])


def reference(mean=MEAN, log_std=CLAMPED_LOG_STD):
    return MultivariateNormal(mean, scale_tril=torch.diag_embed(log_std.exp().expand_as(mean)))


def test_log_prob_of_taken_actions_equals_multivariate_normal_log_prob():
    _, log_prob, _ = FixedMultivariateGaussian(3, LOG_STD).act({"states": MEAN, "taken_actions": TAKEN})
    assert log_prob.shape == (2, 1)
    torch.testing.assert_close(log_prob, reference().log_prob(TAKEN).unsqueeze(-1))


def test_log_prob_without_taken_actions_is_that_of_the_returned_actions():
    actions, log_prob, outputs = FixedMultivariateGaussian(3, LOG_STD).act({"states": MEAN})
    assert actions.shape == (2, 3)
    torch.testing.assert_close(log_prob, reference().log_prob(actions).unsqueeze(-1))
    torch.testing.assert_close(outputs["mean_actions"], MEAN)


def test_entropy_equals_multivariate_normal_entropy():
    policy = FixedMultivariateGaussian(3, LOG_STD)
    policy.act({"states": MEAN})
    assert policy.get_entropy().shape == (2,)
    torch.testing.assert_close(policy.get_entropy(), reference().entropy())


def test_entropy_before_any_act_is_zero():
    assert torch.equal(FixedMultivariateGaussian(3).get_entropy(), torch.tensor(0.0))


def test_scale_is_sigma_not_sigma_squared():
    """skrl 0.10 passes diag(σ²) as the Cholesky factor: log_std = log 2 gives std 4 there, 2 here."""
    policy = FixedMultivariateGaussian(2, math.log(2.0))
    actions, _, _ = policy.act({"states": torch.zeros(20000, 2)})
    torch.testing.assert_close(policy.distribution().stddev[0], torch.tensor([2.0, 2.0]))
    torch.testing.assert_close(actions.std(0), torch.tensor([2.0, 2.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(actions.mean(0), torch.zeros(2), atol=0.05, rtol=0)


def test_state_dependent_log_std_works_and_matches_per_row():
    log_std = torch.tensor([[-1.0, 0.5, 0.0], [0.2, -0.3, 3.0]])
    policy = FixedMultivariateGaussian(3)
    _, log_prob, _ = policy.act({"states": MEAN, "log_std": log_std, "taken_actions": TAKEN})
    clamped = log_std.clamp(max=2.0)
    torch.testing.assert_close(log_prob, reference(log_std=clamped).log_prob(TAKEN).unsqueeze(-1))
    torch.testing.assert_close(policy.get_entropy(), reference(log_std=clamped).entropy())
    torch.testing.assert_close(policy.get_log_std(), clamped)


def test_get_log_std_of_a_parameter_log_std_is_n_by_a():
    policy = FixedMultivariateGaussian(3, LOG_STD)
    policy.act({"states": torch.zeros(4, 3)})
    torch.testing.assert_close(policy.get_log_std(), CLAMPED_LOG_STD.expand(4, 3))


def test_distribution_is_a_multivariate_normal_with_a_diagonal_scale():
    policy = FixedMultivariateGaussian(3, LOG_STD)
    assert policy.distribution() is None
    policy.act({"states": MEAN})
    distribution = policy.distribution()
    assert isinstance(distribution, MultivariateNormal)
    torch.testing.assert_close(distribution.scale_tril, reference().scale_tril)


def test_clipping_is_per_dimension():
    action_space = gymnasium.spaces.Box(np.array([-1, 0], np.float32), np.array([1, 10], np.float32))
    policy = FixedMultivariateGaussian(2, 1.5, action_space=action_space, clip_actions=True)
    actions, _, _ = policy.act({"states": torch.tensor([[0.0, 5.0]]).expand(4000, 2)})
    assert actions[:, 0].min() == -1 and actions[:, 0].max() == 1
    assert actions[:, 1].min() == 0 and actions[:, 1].max() == 10


def test_gradients_flow_through_the_sampled_actions():
    policy = FixedMultivariateGaussian(3, 0.0)
    actions, _, _ = policy.act({"states": MEAN})
    actions.sum().backward()
    assert (policy.log_std.grad != 0).all() and policy.scale.grad is not None


def test_signature_matches_the_specification():
    signature = inspect.signature(MultivariateGaussianMixin.__init__)
    assert [(p.name, p.default) for p in list(signature.parameters.values())[1:]] == [
        ("clip_actions", False),
        ("clip_log_std", True),
        ("min_log_std", -20),
        ("max_log_std", 2),
        ("role", ""),
    ]
