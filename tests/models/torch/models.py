"""Models whose `compute` returns fixed numbers taken from the inputs, for exact-value tests.

The mean (or logits, or output) is ``inputs["states"] * scale``, where ``scale`` is a parameter of
ones: the value is the states themselves, and gradients still reach a parameter. The log-std is
a parameter (A,), or ``inputs["log_std"]`` when given (a state-dependent (N, A) log-std).
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch
from torch import nn

from rlblocks.models.torch import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
)


def box(size: int, low: float = -np.inf, high: float = np.inf) -> gymnasium.spaces.Box:
    return gymnasium.spaces.Box(low, high, (size,), np.float32)


class _FixedMeanAndLogStd:
    def _setup(self, num_actions: int, log_std) -> None:
        self.scale = nn.Parameter(torch.ones(num_actions))
        self.log_std = nn.Parameter(torch.as_tensor(log_std, dtype=torch.float32).clone())

    def compute(self, inputs, role=""):
        log_std = inputs.get("log_std", self.log_std)
        return inputs["states"] * self.scale, log_std, {"role": role}


class FixedGaussian(_FixedMeanAndLogStd, GaussianMixin, Model):
    def __init__(self, num_actions, log_std=0.0, action_space=None, **mixin_kwargs):
        Model.__init__(self, box(num_actions), action_space or box(num_actions), "cpu")
        GaussianMixin.__init__(self, **mixin_kwargs)
        self._setup(num_actions, torch.full((num_actions,), log_std) if np.isscalar(log_std) else log_std)


class FixedMultivariateGaussian(_FixedMeanAndLogStd, MultivariateGaussianMixin, Model):
    def __init__(self, num_actions, log_std=0.0, action_space=None, **mixin_kwargs):
        Model.__init__(self, box(num_actions), action_space or box(num_actions), "cpu")
        MultivariateGaussianMixin.__init__(self, **mixin_kwargs)
        self._setup(num_actions, torch.full((num_actions,), log_std) if np.isscalar(log_std) else log_std)


class FixedCategorical(CategoricalMixin, Model):
    """The logits (or probabilities) are the states."""

    def __init__(self, num_actions, **mixin_kwargs):
        Model.__init__(self, box(num_actions), gymnasium.spaces.Discrete(num_actions), "cpu")
        CategoricalMixin.__init__(self, **mixin_kwargs)
        self.scale = nn.Parameter(torch.ones(num_actions))

    def compute(self, inputs, role=""):
        return inputs["states"] * self.scale, {}


class FixedMultiCategorical(MultiCategoricalMixin, Model):
    """The components' logits (or probabilities), side by side, are the states."""

    def __init__(self, nvec, **mixin_kwargs):
        action_space = gymnasium.spaces.MultiDiscrete(nvec)
        Model.__init__(self, box(int(sum(nvec))), action_space, "cpu")
        MultiCategoricalMixin.__init__(self, **mixin_kwargs)
        self.scale = nn.Parameter(torch.ones(int(sum(nvec))))

    def compute(self, inputs, role=""):
        return inputs["states"] * self.scale, {}


class FixedDeterministic(DeterministicMixin, Model):
    """The output is the states."""

    def __init__(self, action_space, **mixin_kwargs):
        size = int(np.prod(action_space.shape))
        Model.__init__(self, box(size), action_space, "cpu")
        DeterministicMixin.__init__(self, **mixin_kwargs)
        self.scale = nn.Parameter(torch.ones(size))

    def compute(self, inputs, role=""):
        return inputs["states"] * self.scale, {"extra": 1}


def mlp(inputs: int, outputs: int, hidden: int = 16) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU(), nn.Linear(hidden, outputs)
    )


class MLPGaussian(GaussianMixin, Model):
    """A small Gaussian policy: an ELU MLP for the mean and a log-std parameter."""

    def __init__(self, num_observations=4, num_actions=2, role="policy", device="cpu", **mixin_kwargs):
        Model.__init__(self, box(num_observations), box(num_actions, -1.0, 1.0), device)
        GaussianMixin.__init__(self, role=role, **mixin_kwargs)
        self.net = mlp(self.num_observations, self.num_actions)
        self.log_std_parameter = nn.Parameter(torch.full((self.num_actions,), -0.5))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), self.log_std_parameter, {}
