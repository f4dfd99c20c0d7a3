"""Small MLP models for agent tests (policy, value, critic and Q-network shapes every agent needs)."""

from __future__ import annotations

import torch
from torch import nn

from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model


def mlp(inputs: int, outputs: int, hidden: tuple[int, ...] = (64, 64), activation: type[nn.Module] = nn.Tanh):
    layers, width = [], inputs
    for size in hidden:
        layers += [nn.Linear(width, size), activation()]
        width = size
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


class GaussianPolicy(GaussianMixin, Model):
    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        hidden=(64, 64),
        activation=nn.Tanh,
        clip_actions=False,
        initial_log_std=0.0,
        output_scale=None,
        **mixin_kwargs,
    ):
        """With `output_scale`, the mean is output_scale · tanh(net(states)), else net(states)."""
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=clip_actions, role="policy", **mixin_kwargs)
        self.net = mlp(self.num_observations, self.num_actions, hidden, activation)
        self.output_scale = output_scale
        self.log_std_parameter = nn.Parameter(torch.full((self.num_actions,), float(initial_log_std)))

    def compute(self, inputs, role=""):
        mean = self.net(inputs["states"])
        if self.output_scale is not None:
            mean = self.output_scale * torch.tanh(mean)
        return mean, self.log_std_parameter, {}


class CategoricalPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device="cpu", hidden=(64, 64), activation=nn.Tanh):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, role="policy")
        self.net = mlp(self.num_observations, self.num_actions, hidden, activation)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device="cpu", hidden=(64, 64), activation=nn.Tanh):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="value")
        self.net = mlp(self.num_observations, 1, hidden, activation)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class SharedGaussianValue(GaussianMixin, DeterministicMixin, Model):
    """One trunk, a mean head and a value head: the same object serves as "policy" and "value"."""

    def __init__(self, observation_space, action_space, device="cpu", hidden=64):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.trunk = nn.Sequential(nn.Linear(self.num_observations, hidden), nn.Tanh())
        self.mean_head = nn.Linear(hidden, self.num_actions)
        self.value_head = nn.Linear(hidden, 1)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def act(self, inputs, role=""):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role)
        return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role=""):
        features = self.trunk(inputs["states"])
        if role == "policy":
            return self.mean_head(features), self.log_std_parameter, {}
        return self.value_head(features), {}


class DeterministicActor(DeterministicMixin, Model):
    """μ(s) = output_scale · tanh(net(s)) (or net(s) without output_scale), for DDPG and TD3."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        hidden=(64, 64),
        activation=nn.ReLU,
        output_scale=None,
        clip_actions=False,
    ):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=clip_actions, role="policy")
        self.net = mlp(self.num_observations, self.num_actions, hidden, activation)
        self.output_scale = output_scale

    def compute(self, inputs, role=""):
        actions = self.net(inputs["states"])
        if self.output_scale is not None:
            actions = self.output_scale * torch.tanh(actions)
        return actions, {}


class Critic(DeterministicMixin, Model):
    """Q(s, a) from the concatenated states and taken actions: (N, 1)."""

    def __init__(self, observation_space, action_space, device="cpu", hidden=(64, 64), activation=nn.ReLU):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="critic")
        self.net = mlp(self.num_observations + self.num_actions, 1, hidden, activation)

    def compute(self, inputs, role=""):
        return self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=1)), {}


class QNetwork(DeterministicMixin, Model):
    """Q(s, ·) for a Discrete action space: (N, n_actions)."""

    def __init__(self, observation_space, action_space, device="cpu", hidden=(64, 64), activation=nn.ReLU):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="q_network")
        self.net = mlp(self.num_observations, self.num_actions, hidden, activation)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


def critic_models(observation_space, action_space, roles, hidden=(16,)):
    """A `Critic` per role (online and target critics of the replay-based actor-critics)."""
    return {role: Critic(observation_space, action_space, hidden=hidden) for role in roles}


def sac_models(observation_space, action_space, hidden=(16,), squash=False):
    """SAC's five models; without ``squash`` the policy bounds its actions itself (skrl 0.10 style)."""
    policy = GaussianPolicy(
        observation_space,
        action_space,
        hidden=hidden,
        activation=nn.ReLU,
        clip_actions=not squash,
        output_scale=None if squash else float(action_space.high[0]),
    )
    roles = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    return {"policy": policy, **critic_models(observation_space, action_space, roles, hidden)}


def deterministic_actor_critic_models(observation_space, action_space, critic_roles, hidden=(16,)):
    """DDPG's (critic_roles ("critic",)) or TD3's (("critic_1", "critic_2")) models, with their targets."""
    scale = float(action_space.high[0])
    actors = {
        role: DeterministicActor(observation_space, action_space, hidden=hidden, output_scale=scale)
        for role in ("policy", "target_policy")
    }
    roles = (*critic_roles, *(f"target_{role}" for role in critic_roles))
    return {**actors, **critic_models(observation_space, action_space, roles, hidden)}


def dqn_models(observation_space, action_space, hidden=(16,)):
    """DQN/DDQN's Q-network and target Q-network."""
    return {
        role: QNetwork(observation_space, action_space, hidden=hidden)
        for role in ("q_network", "target_q_network")
    }
