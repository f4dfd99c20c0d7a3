"""Categorical policies built with unnormalized_log_prob=False refuse outputs that are not probabilities."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.syncs import count_host_syncs
from tests.models.torch.models import FixedCategorical, FixedMultiCategorical

INVALID = {
    "negative": [[0.5, -0.2, 0.7]],
    "nan": [[0.5, float("nan"), 0.5]],
    "inf": [[0.5, float("inf"), 0.5]],
    "zero row": [[0.0, 0.0, 0.0]],
}


@pytest.mark.parametrize("values", INVALID.values(), ids=INVALID.keys())
def test_categorical_probabilities_that_are_not_probabilities_raise_naming_the_fix(values):
    policy = FixedCategorical(3, unnormalized_log_prob=False, role="policy")
    states = torch.tensor([[0.2, 0.3, 0.5], *values])
    with pytest.raises(ValueError, match=r"unnormalized_log_prob=False.*row 1: .*torch\.softmax"):
        policy.act({"states": states}, role="policy")


@pytest.mark.parametrize("values", INVALID.values(), ids=INVALID.keys())
def test_multicategorical_probabilities_that_are_not_probabilities_raise(values):
    policy = FixedMultiCategorical([2, 3], unnormalized_log_prob=False)
    states = torch.tensor([[0.5, 0.5, *row] for row in values])
    with pytest.raises(ValueError, match=r"FixedMultiCategorical \(role ''\).*row 0"):
        policy.act({"states": states})


def test_valid_probabilities_are_normalised_without_a_host_read():
    policy = FixedCategorical(3, unnormalized_log_prob=False)
    states = torch.tensor([[1.0, 1.0, 2.0], [0.0, 0.0, 3.0]])  # unnormalised but valid; zeros allowed
    with count_host_syncs() as counts:
        _, log_prob, _ = policy.act({"states": states, "taken_actions": torch.tensor([[2], [2]])})
    assert counts["total"] == 0
    assert torch.allclose(log_prob, torch.log(torch.tensor([[0.5], [1.0]])))
