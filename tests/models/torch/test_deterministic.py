"""`DeterministicMixin`: the output as is, or clamped to each dimension's bounds."""

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.models.torch import DeterministicMixin, Model
from tests.models.torch.models import FixedDeterministic

BOUNDS = gymnasium.spaces.Box(np.array([-1, 0], np.float32), np.array([1, 10], np.float32))
OUTPUT = torch.tensor([[-3.0, -3.0], [0.5, 5.0], [3.0, 30.0]])


def test_act_returns_the_output_no_log_prob_and_compute_outputs_unchanged():
    actions, log_prob, outputs = FixedDeterministic(BOUNDS).act({"states": OUTPUT})
    torch.testing.assert_close(actions, OUTPUT)
    assert log_prob is None
    assert outputs == {"extra": 1}


def test_clipping_clamps_each_dimension_to_its_own_bounds():
    actions, _, _ = FixedDeterministic(BOUNDS, clip_actions=True).act({"states": OUTPUT})
    torch.testing.assert_close(actions, torch.tensor([[-1.0, 0.0], [0.5, 5.0], [1.0, 10.0]]))


def test_clipped_output_still_carries_gradients_inside_the_bounds():
    model = FixedDeterministic(BOUNDS, clip_actions=True)
    actions, _, _ = model.act({"states": OUTPUT})
    actions.sum().backward()
    torch.testing.assert_close(model.scale.grad, torch.tensor([0.5, 5.0]))


def test_value_output_is_n_by_1():
    class Value(DeterministicMixin, Model):
        def __init__(self):
            Model.__init__(self, 3, 1, "cpu")
            DeterministicMixin.__init__(self, role="value")
            self.net = torch.nn.Linear(3, 1)

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    values, log_prob, _ = Value().act({"states": torch.randn(5, 3)}, role="value")
    assert values.shape == (5, 1) and log_prob is None


def test_clip_actions_with_a_discrete_action_space_raises():
    class QNetwork(DeterministicMixin, Model):
        def __init__(self):
            Model.__init__(self, 2, gymnasium.spaces.Discrete(3), "cpu")
            DeterministicMixin.__init__(self, clip_actions=True)

    with pytest.raises(
        ValueError, match=r"needs a Box action space, got Discrete\(3\); .*clip_actions=False"
    ):
        QNetwork()
