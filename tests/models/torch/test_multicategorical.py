"""`MultiCategoricalMixin` against one `torch.distributions.Categorical` per component."""

import gymnasium
import pytest
import torch
from torch.distributions import Categorical

from rlblocks.models.torch import Model, MultiCategoricalMixin
from tests.models.torch.models import FixedMultiCategorical

NVEC = [3, 2]
LOGITS = torch.tensor([[0.0, 1.0, -1.0, 2.0, 0.5], [3.0, 0.5, 0.5, -2.0, 0.0]])
TAKEN = torch.tensor([[2, 0], [0, 1]])
REDUCE = {
    "sum": lambda x: x.sum(-1, keepdim=True),
    "mean": lambda x: x.mean(-1, keepdim=True),
    "prod": lambda x: x.prod(-1, keepdim=True),
    "none": lambda x: x,
}


def components(logits=LOGITS):
    return [Categorical(logits=logits[:, :3]), Categorical(logits=logits[:, 3:])]


def per_component_log_prob(taken):
    return torch.stack([d.log_prob(taken[:, i]) for i, d in enumerate(components())], dim=-1)


@pytest.mark.parametrize("reduction", ["sum", "mean", "prod", "none"])
def test_log_prob_equals_the_components_log_probs_reduced(reduction):
    policy = FixedMultiCategorical(NVEC, reduction=reduction)
    _, log_prob, _ = policy.act({"states": LOGITS, "taken_actions": TAKEN})
    torch.testing.assert_close(log_prob, REDUCE[reduction](per_component_log_prob(TAKEN)))


def test_actions_are_one_int64_column_per_component_within_range():
    actions, log_prob, outputs = FixedMultiCategorical(NVEC).act({"states": LOGITS.repeat(500, 1)})
    assert actions.shape == (1000, 2) and actions.dtype == torch.int64
    assert log_prob.shape == (1000, 1)
    assert set(actions[:, 0].tolist()) == {0, 1, 2} and set(actions[:, 1].tolist()) == {0, 1}
    torch.testing.assert_close(outputs["net_output"], LOGITS.repeat(500, 1))


def test_log_prob_without_taken_actions_is_that_of_the_returned_actions():
    actions, log_prob, _ = FixedMultiCategorical(NVEC).act({"states": LOGITS})
    torch.testing.assert_close(log_prob, per_component_log_prob(actions).sum(-1, keepdim=True))


def test_entropy_is_the_sum_of_the_components_entropies_or_each_for_none():
    policy = FixedMultiCategorical(NVEC)
    assert torch.equal(policy.get_entropy(), torch.tensor(0.0))
    policy.act({"states": LOGITS})
    expected = torch.stack([d.entropy() for d in components()], dim=-1)
    torch.testing.assert_close(policy.get_entropy(), expected.sum(-1))
    separate = FixedMultiCategorical(NVEC, reduction="none")
    separate.act({"states": LOGITS})
    torch.testing.assert_close(separate.get_entropy(), expected)


def test_probabilities_are_normalised_per_component():
    probs = torch.tensor([[1.0, 1.0, 2.0, 3.0, 1.0]])
    policy = FixedMultiCategorical(NVEC, unnormalized_log_prob=False, reduction="none")
    _, log_prob, _ = policy.act({"states": probs, "taken_actions": torch.tensor([[2, 0]])})
    torch.testing.assert_close(log_prob, torch.log(torch.tensor([[0.5, 0.75]])))


def test_sampled_frequencies_match_each_component():
    torch.manual_seed(0)
    logits = torch.log(torch.tensor([0.2, 0.3, 0.5, 0.9, 0.1]))
    actions, _, _ = FixedMultiCategorical(NVEC).act({"states": logits.expand(40000, 5)})
    first = torch.bincount(actions[:, 0], minlength=3).float() / 40000
    second = torch.bincount(actions[:, 1], minlength=2).float() / 40000
    torch.testing.assert_close(first, torch.tensor([0.2, 0.3, 0.5]), atol=0.01, rtol=0)
    torch.testing.assert_close(second, torch.tensor([0.9, 0.1]), atol=0.01, rtol=0)


def test_distribution_is_one_categorical_per_component():
    policy = FixedMultiCategorical(NVEC)
    assert policy.distribution() is None
    policy.act({"states": LOGITS})
    distributions = policy.distribution()
    assert len(distributions) == 2
    torch.testing.assert_close(distributions[1].probs, torch.softmax(LOGITS[:, 3:], -1))


def test_a_box_action_space_is_refused():
    class Policy(MultiCategoricalMixin, Model):
        def __init__(self):
            Model.__init__(self, 2, gymnasium.spaces.Box(-1, 1, (2,)), "cpu")
            MultiCategoricalMixin.__init__(self)

    with pytest.raises(
        ValueError, match=r"MultiCategoricalMixin needs a MultiDiscrete action space, got Box"
    ):
        Policy()


def test_unknown_reduction_raises():
    with pytest.raises(ValueError, match=r"reduction must be one of"):
        FixedMultiCategorical(NVEC, reduction="max")
