import pytest
import torch

from rlblocks.agents.torch.parts import Metrics
from tests.helpers.syncs import count_host_syncs


def test_tensors_stay_on_the_device_until_one_transfer_at_pop():
    metrics = Metrics()
    with count_host_syncs() as counts:
        for value in (1.0, 2.0, 6.0):
            metrics.add("Loss / Policy loss", torch.tensor(value, requires_grad=True) * 1)
        metrics.add_statistics("Q-network / Q1", torch.tensor([[-1.0], [3.0]]))
        metrics.add("Learning / Learning rate", 0.001)
    assert counts["total"] == 0
    with count_host_syncs() as counts:
        values = metrics.pop()
    assert counts["total"] == 1  # one tolist for every tag
    assert values == {
        "Loss / Policy loss": pytest.approx(3.0),
        "Q-network / Q1 (max)": 3.0,
        "Q-network / Q1 (min)": -1.0,
        "Q-network / Q1 (mean)": 1.0,
        "Learning / Learning rate": 0.001,
    }
    assert metrics.pop() == {}


def test_min_and_max_tags_reduce_by_min_and_max_across_tracked_values():
    metrics = Metrics()
    for value in (3.0, -2.0, 5.0):
        metrics.add("x (min)", torch.tensor(value))
        metrics.add("x (max)", value)
    assert metrics.pop() == {"x (min)": -2.0, "x (max)": 5.0}
