"""`CategoricalMixin` against `torch.distributions.Categorical` on fixed numbers."""

import pytest
import torch
from torch.distributions import Categorical

from tests.models.torch.models import FixedCategorical

LOGITS = torch.tensor([[0.0, 1.0, -1.0, 2.0], [3.0, 0.5, 0.5, -2.0], [-1.0, -1.0, -1.0, -1.0]])
TAKEN = torch.tensor([[3], [0], [2]])


def test_log_prob_of_taken_actions_equals_categorical_log_prob_from_logits():
    actions, log_prob, outputs = FixedCategorical(4).act({"states": LOGITS, "taken_actions": TAKEN})
    assert actions.shape == (3, 1) and actions.dtype == torch.int64
    assert log_prob.shape == (3, 1)
    torch.testing.assert_close(log_prob, Categorical(logits=LOGITS).log_prob(TAKEN.view(-1)).unsqueeze(-1))
    torch.testing.assert_close(outputs["net_output"], LOGITS)


def test_log_prob_of_uniform_logits_is_minus_log_four():
    _, log_prob, _ = FixedCategorical(4).act(
        {"states": torch.zeros(1, 4), "taken_actions": torch.tensor([[1]])}
    )
    assert log_prob.item() == pytest.approx(-1.3862944, abs=1e-6)


def test_log_prob_without_taken_actions_is_that_of_the_returned_actions():
    actions, log_prob, _ = FixedCategorical(4).act({"states": LOGITS})
    torch.testing.assert_close(log_prob, Categorical(logits=LOGITS).log_prob(actions.view(-1)).unsqueeze(-1))


def test_float_taken_actions_with_integral_values_are_accepted():
    _, log_prob, _ = FixedCategorical(4).act({"states": LOGITS, "taken_actions": TAKEN.float()})
    torch.testing.assert_close(log_prob, Categorical(logits=LOGITS).log_prob(TAKEN.view(-1)).unsqueeze(-1))


def test_probabilities_give_categorical_log_prob_and_entropy_from_probs():
    probs = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    policy = FixedCategorical(4, unnormalized_log_prob=False)
    _, log_prob, _ = policy.act({"states": probs, "taken_actions": torch.tensor([[2], [0]])})
    reference = Categorical(probs=probs)
    torch.testing.assert_close(log_prob, reference.log_prob(torch.tensor([2, 0])).unsqueeze(-1))
    torch.testing.assert_close(policy.get_entropy(), reference.entropy())


def test_probabilities_off_the_simplex_are_normalised():
    """skrl 0.10 validates and raises; rlblocks normalises (see docs/differences.md)."""
    weights = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    _, log_prob, _ = FixedCategorical(4, unnormalized_log_prob=False).act(
        {"states": weights, "taken_actions": torch.tensor([[3]])}
    )
    assert log_prob.item() == pytest.approx(torch.log(torch.tensor(0.4)).item(), abs=1e-6)


def test_entropy_equals_categorical_entropy_and_is_zero_before_any_act():
    policy = FixedCategorical(4)
    assert torch.equal(policy.get_entropy(), torch.tensor(0.0))
    policy.act({"states": LOGITS})
    assert policy.get_entropy().shape == (3,)
    torch.testing.assert_close(policy.get_entropy(), Categorical(logits=LOGITS).entropy())


def test_entropy_with_a_zero_probability_action_is_finite():
    logits = torch.tensor([[0.0, -float("inf"), 0.0]])
    policy = FixedCategorical(3)
    policy.act({"states": logits})
    assert policy.get_entropy().item() == pytest.approx(torch.log(torch.tensor(2.0)).item(), abs=1e-6)


def test_sampled_action_frequencies_match_the_probabilities():
    torch.manual_seed(0)
    logits = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    actions, _, _ = FixedCategorical(4).act({"states": logits.expand(40000, 4)})
    frequencies = torch.bincount(actions.view(-1), minlength=4).float() / 40000
    torch.testing.assert_close(frequencies, torch.tensor([0.1, 0.2, 0.3, 0.4]), atol=0.01, rtol=0)


def test_distribution_is_the_categorical_of_the_last_act():
    policy = FixedCategorical(4)
    assert policy.distribution() is None
    policy.act({"states": LOGITS})
    distribution = policy.distribution()
    assert isinstance(distribution, Categorical)
    torch.testing.assert_close(distribution.probs, torch.softmax(LOGITS, -1))


def test_gradients_reach_the_logits_through_the_log_prob():
    policy = FixedCategorical(4)
    _, log_prob, _ = policy.act({"states": LOGITS, "taken_actions": TAKEN})
    log_prob.sum().backward()
    assert (policy.scale.grad != 0).any()


def test_one_dimensional_logits_give_one_action_and_one_log_prob():
    logits = torch.tensor([0.0, 1.0, -1.0, 2.0])
    actions, log_prob, _ = FixedCategorical(4).act({"states": logits, "taken_actions": torch.tensor(3)})
    assert actions.shape == (1,) and log_prob.shape == (1,)
    torch.testing.assert_close(log_prob, Categorical(logits=logits).log_prob(torch.tensor(3)).view(1))
