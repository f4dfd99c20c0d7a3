"""`GaussianMixin` against `torch.distributions.Normal` on fixed numbers."""

import logging
import math

import gymnasium
import numpy as np
import pytest
import torch
from torch.distributions import Normal

from rlblocks.models.torch import GaussianMixin, Model
from tests.models.torch.models import FixedGaussian, MLPGaussian

MEAN = torch.tensor([[0.0, 1.0, -2.0], [0.5, -0.5, 3.0]])
LOG_STD = torch.tensor([-0.5, 0.0, 10.0])  # 10 is clamped to the default max_log_std, 2
CLAMPED_LOG_STD = torch.tensor([-0.5, 0.0, 2.0])
TAKEN = torch.tensor([[0.1, 2.0, -1.0], [1.5, -0.5, 0.0]])
REDUCE = {
    "sum": lambda x: x.sum(-1, keepdim=True),
    "mean": lambda x: x.mean(-1, keepdim=True),
    "prod": lambda x: x.prod(-1, keepdim=True),
    "none": lambda x: x,
}


def reference(mean=MEAN, log_std=CLAMPED_LOG_STD):
    return Normal(mean, log_std.exp())


@pytest.mark.parametrize("reduction", ["sum", "mean", "prod", "none"])
def test_log_prob_of_taken_actions_equals_normal_log_prob_reduced(reduction):
    policy = FixedGaussian(3, LOG_STD, reduction=reduction)
    _, log_prob, _ = policy.act({"states": MEAN, "taken_actions": TAKEN})
    torch.testing.assert_close(log_prob, REDUCE[reduction](reference().log_prob(TAKEN)))


@pytest.mark.parametrize(
    ("reduction", "shape"), [("sum", (2, 1)), ("mean", (2, 1)), ("prod", (2, 1)), ("none", (2, 3))]
)
def test_shapes_per_reduction(reduction, shape):
    actions, log_prob, outputs = FixedGaussian(3, LOG_STD, reduction=reduction).act({"states": MEAN})
    assert actions.shape == (2, 3) and actions.dtype == torch.float32
    assert log_prob.shape == shape
    assert outputs["mean_actions"] is not None


def test_log_prob_at_the_mean_of_a_unit_gaussian_is_minus_log_sqrt_two_pi_per_dimension():
    """log N(0 | 0, 1) = -log sqrt(2 pi) = -0.9189385; summed over 3 dimensions: -2.7568156."""
    policy = FixedGaussian(3, 0.0)
    _, log_prob, _ = policy.act({"states": torch.zeros(1, 3), "taken_actions": torch.zeros(1, 3)})
    assert log_prob.item() == pytest.approx(-3 * 0.5 * math.log(2 * math.pi), abs=1e-6)
    assert log_prob.item() == pytest.approx(-2.7568156, abs=1e-6)


def test_log_prob_without_taken_actions_is_that_of_the_returned_actions():
    actions, log_prob, _ = FixedGaussian(3, LOG_STD).act({"states": MEAN})
    torch.testing.assert_close(log_prob, reference().log_prob(actions).sum(-1, keepdim=True))


def test_log_std_is_clamped_to_the_given_bounds():
    policy = FixedGaussian(3, [-30.0, 0.0, 5.0], min_log_std=-5, max_log_std=1)
    policy.act({"states": MEAN})
    torch.testing.assert_close(policy.get_log_std(), torch.tensor([[-5.0, 0.0, 1.0]] * 2))


def test_log_std_is_not_clamped_when_clip_log_std_is_false():
    policy = FixedGaussian(3, LOG_STD, clip_log_std=False)
    _, log_prob, _ = policy.act({"states": MEAN, "taken_actions": TAKEN})
    torch.testing.assert_close(log_prob, reference(log_std=LOG_STD).log_prob(TAKEN).sum(-1, keepdim=True))


def test_mean_actions_output_is_the_mean_and_compute_outputs_are_kept():
    _, _, outputs = FixedGaussian(3, LOG_STD).act({"states": MEAN}, role="policy")
    torch.testing.assert_close(outputs["mean_actions"], MEAN)
    assert outputs["role"] == "policy"


def test_entropy_equals_normal_entropy_per_dimension():
    policy = FixedGaussian(3, LOG_STD)
    policy.act({"states": MEAN})
    entropy = policy.get_entropy()
    assert entropy.shape == (2, 3)
    torch.testing.assert_close(entropy, reference().entropy())


def test_entropy_before_any_act_is_zero():
    assert torch.equal(FixedGaussian(3).get_entropy(), torch.tensor(0.0))


def test_state_dependent_log_std_gives_matching_log_prob_entropy_and_log_std():
    log_std = torch.tensor([[-1.0, 0.5, 0.0], [0.2, -0.3, 3.0]])
    policy = FixedGaussian(3)
    _, log_prob, _ = policy.act({"states": MEAN, "log_std": log_std, "taken_actions": TAKEN})
    clamped = log_std.clamp(-20, 2)
    torch.testing.assert_close(log_prob, reference(log_std=clamped).log_prob(TAKEN).sum(-1, keepdim=True))
    torch.testing.assert_close(policy.get_entropy(), reference(log_std=clamped).entropy())
    assert policy.get_log_std().shape == (2, 3)
    torch.testing.assert_close(policy.get_log_std(), clamped)


def test_get_log_std_of_a_parameter_log_std_is_n_by_a():
    policy = FixedGaussian(3, LOG_STD)
    policy.act({"states": torch.zeros(5, 3)})
    torch.testing.assert_close(policy.get_log_std(), CLAMPED_LOG_STD.expand(5, 3))


def test_get_log_std_before_any_act_raises_a_clear_error():
    with pytest.raises(
        RuntimeError, match=r"get_log_std\(role=''\) needs a distribution: call act\(\) first"
    ):
        FixedGaussian(3).get_log_std()


def test_distribution_is_the_normal_of_the_last_act():
    policy = FixedGaussian(3, LOG_STD)
    assert policy.distribution() is None
    policy.act({"states": MEAN})
    distribution = policy.distribution()
    assert isinstance(distribution, Normal)
    torch.testing.assert_close(distribution.mean, MEAN)
    torch.testing.assert_close(distribution.stddev, CLAMPED_LOG_STD.exp().expand(2, 3))


def test_sampled_actions_have_the_distributions_mean_and_std():
    torch.manual_seed(0)
    mean = torch.tensor([1.0, -2.0, 0.0])
    log_std = torch.tensor([0.0, math.log(0.5), math.log(2.0)])
    actions, _, _ = FixedGaussian(3, log_std).act({"states": mean.expand(20000, 3)})
    torch.testing.assert_close(actions.mean(0), mean, atol=0.05, rtol=0)
    torch.testing.assert_close(actions.std(0), log_std.exp(), atol=0.03, rtol=0)


def test_gradients_flow_through_the_sampled_actions_to_mean_and_log_std():
    policy = FixedGaussian(3, 0.0)
    actions, _, _ = policy.act({"states": MEAN})
    assert actions.requires_grad
    actions.sum().backward()
    assert policy.scale.grad is not None and policy.log_std.grad is not None
    assert (policy.log_std.grad != 0).all()


def test_clipping_is_per_dimension_and_the_log_prob_is_of_the_clipped_actions():
    action_space = gymnasium.spaces.Box(np.array([-1, 0], np.float32), np.array([1, 10], np.float32))
    policy = FixedGaussian(2, [1.5, 1.5], action_space=action_space, clip_actions=True)
    actions, log_prob, outputs = policy.act({"states": torch.tensor([[0.0, 5.0]]).expand(4000, 2)})
    assert actions[:, 0].min() == -1 and actions[:, 0].max() == 1
    assert actions[:, 1].min() == 0 and actions[:, 1].max() == 10
    assert ((actions[:, 1] > 1) & (actions[:, 1] < 10)).any()
    torch.testing.assert_close(
        log_prob,
        reference(outputs["mean_actions"], torch.tensor([1.5, 1.5])).log_prob(actions).sum(-1, keepdim=True),
    )


def test_actions_are_not_clipped_by_default():
    actions, _, _ = FixedGaussian(2, 2.0, action_space=gymnasium.spaces.Box(-1, 1, (2,))).act(
        {"states": torch.zeros(1000, 2)}
    )
    assert actions.abs().max() > 1


def test_one_dimensional_states_give_a_vector_of_actions_and_a_one_element_log_prob():
    actions, log_prob, _ = FixedGaussian(3, LOG_STD).act({"states": MEAN[0]})
    assert actions.shape == (3,) and log_prob.shape == (1,)


def test_unknown_reduction_raises():
    with pytest.raises(
        ValueError, match=r"reduction must be one of 'mean', 'sum', 'prod' or 'none', got 'max'"
    ):
        FixedGaussian(3, reduction="max")


def test_clip_actions_with_a_discrete_action_space_raises():
    class Policy(GaussianMixin, Model):
        def __init__(self):
            Model.__init__(self, 2, gymnasium.spaces.Discrete(3), "cpu")
            GaussianMixin.__init__(self, clip_actions=True)

    with pytest.raises(
        ValueError, match=r"GaussianMixin\(clip_actions=True\) needs a Box action space, got Discrete\(3\)"
    ):
        Policy()


def test_clip_actions_with_an_int_action_space_is_ignored_with_a_warning(caplog):
    class Policy(GaussianMixin, Model):
        def __init__(self):
            Model.__init__(self, 2, 2, "cpu")
            GaussianMixin.__init__(self, clip_actions=True)

        def compute(self, inputs, role=""):
            return inputs["states"], torch.full((2,), 3.0), {}

    with caplog.at_level(logging.WARNING):
        policy = Policy()
    assert "clip_actions=True ignored" in caplog.text
    actions, _, _ = policy.act({"states": torch.zeros(500, 2)})
    assert actions.abs().max() > 1


def test_mlp_policy_actions_and_log_prob_shapes_for_a_batch():
    actions, log_prob, outputs = MLPGaussian(num_observations=4, num_actions=2).act(
        {"states": torch.randn(7, 4)}, role="policy"
    )
    assert actions.shape == (7, 2) and log_prob.shape == (7, 1) and outputs["mean_actions"].shape == (7, 2)
