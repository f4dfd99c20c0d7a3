"""Models shaped like the fixtures' networks, written the way an rlblocks user would write them."""

from __future__ import annotations

import torch
from torch import nn

from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model


def mlp(inputs: int, outputs: int, activation: type[nn.Module], hidden=(64, 64), output_activation=None):
    layers, width = [], inputs
    for size in hidden:
        layers += [nn.Linear(width, size), activation()]
        width = size
    layers.append(nn.Linear(width, outputs))
    if output_activation is not None:
        layers.append(output_activation())
    return nn.Sequential(*layers)


class GaussianPolicy(GaussianMixin, Model):
    """net.{0,2,4} + log_std_parameter (SB3 PPO, rl_games continuous)."""

    def __init__(self, observation_space, action_space, activation, hidden=(64, 64), role="policy"):
        Model.__init__(self, observation_space, action_space, "cpu")
        GaussianMixin.__init__(self, role=role)
        self.net = mlp(self.num_observations, self.num_actions, activation, hidden)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), self.log_std_parameter, {}


class SquashedGaussianPolicy(GaussianMixin, Model):
    """A trunk, a mean head and a state-dependent log-std head (SB3 SAC's actor)."""

    def __init__(self, observation_space, action_space, activation=nn.ReLU):
        Model.__init__(self, observation_space, action_space, "cpu")
        GaussianMixin.__init__(self, role="policy")
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64), activation(), nn.Linear(64, 64), activation()
        )
        self.mean_layer = nn.Linear(64, self.num_actions)
        self.log_std_layer = nn.Linear(64, self.num_actions)

    def compute(self, inputs, role=""):
        features = self.net(inputs["states"])
        return self.mean_layer(features), self.log_std_layer(features), {}


class CategoricalPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, activation, role="policy"):
        Model.__init__(self, observation_space, action_space, "cpu")
        CategoricalMixin.__init__(self, role=role)
        self.net = mlp(self.num_observations, self.num_actions, activation)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, activation, role="value"):
        Model.__init__(self, observation_space, action_space, "cpu")
        DeterministicMixin.__init__(self, role=role)
        self.net = mlp(self.num_observations, 1, activation)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class DeterministicActor(DeterministicMixin, Model):
    """net.{0,2,4} then Tanh (SB3 TD3/DDPG actor): outputs in [-1, 1]."""

    def __init__(self, observation_space, action_space, role="policy", clip_actions=False):
        Model.__init__(self, observation_space, action_space, "cpu")
        DeterministicMixin.__init__(self, clip_actions=clip_actions, role=role)
        self.net = mlp(self.num_observations, self.num_actions, nn.ReLU, output_activation=nn.Tanh)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class Critic(DeterministicMixin, Model):
    """Q(s, a) from cat([states, taken_actions])."""

    def __init__(self, observation_space, action_space, role="critic"):
        Model.__init__(self, observation_space, action_space, "cpu")
        DeterministicMixin.__init__(self, role=role)
        self.net = mlp(self.num_observations + self.num_actions, 1, nn.ReLU)

    def compute(self, inputs, role=""):
        return self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=-1)), {}


class QNetwork(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, role="q_network"):
        Model.__init__(self, observation_space, action_space, "cpu")
        DeterministicMixin.__init__(self, role=role)
        self.net = mlp(self.num_observations, self.num_actions, nn.ReLU)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class SharedActorCritic(GaussianMixin, DeterministicMixin, Model):
    """One trunk with a mean head and a value head: the same object is "policy" and "value"."""

    def __init__(self, observation_space, action_space, activation=nn.ELU):
        Model.__init__(self, observation_space, action_space, "cpu")
        GaussianMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64), activation(), nn.Linear(64, 64), activation()
        )
        self.mean_layer = nn.Linear(64, self.num_actions)
        self.value_layer = nn.Linear(64, 1)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def act(self, inputs, role=""):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role)
        return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role=""):
        features = self.net(inputs["states"])
        if role == "policy":
            return self.mean_layer(features), self.log_std_parameter, {}
        return self.value_layer(features), {}
