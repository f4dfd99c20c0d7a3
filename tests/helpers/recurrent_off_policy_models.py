"""Recurrent (RNN, GRU, LSTM) policies and critics for the replay-based actor-critics' tests.

They follow skrl 0.10's documented recurrent example models: ``get_specification()`` declares the
states, ``compute`` reads ``inputs["rnn"]`` and returns ``outputs["rnn"]``; in training mode the
(N·L, ·) rows are reshaped into N sequences of L steps, each sequence starts from the state of its
first row, and the sequence is cut after every step flagged in ``inputs["terminated"]``, where
the state is reset to zero. The critic's recurrent layer reads the states only; the taken actions
join its output, as in skrl's example critics.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from rlblocks.models.torch import DeterministicMixin, GaussianMixin, Model
from tests.helpers.models import Critic

LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentBody(nn.Module):
    """A batch-first recurrent layer run the way skrl's example models run theirs."""

    def __init__(self, kind, input_size, num_envs, hidden_size=16, num_layers=1, sequence_length=4):
        super().__init__()
        self.kind, self.num_envs = kind, num_envs
        self.hidden_size, self.num_layers, self.sequence_length = hidden_size, num_layers, sequence_length
        self.layer = LAYERS[kind](input_size, hidden_size, num_layers=num_layers, batch_first=True)

    def specification(self):
        size = (self.num_layers, self.num_envs, self.hidden_size)
        return {
            "rnn": {
                "sequence_length": self.sequence_length,
                "sizes": [size] * (2 if self.kind == "lstm" else 1),
            }
        }

    def _call(self, inputs, states):
        if self.kind == "lstm":
            output, (hidden, cell) = self.layer(inputs, (states[0], states[1]))
            return output, [hidden, cell]
        output, hidden = self.layer(inputs, states[0])
        return output, [hidden]

    def forward(self, states, rnn_states, terminated=None):
        """(rows, hidden) features and the next states (see the module docstring)."""
        if not self.training:  # acting: one step of each row
            output, next_states = self._call(states.view(-1, 1, states.shape[-1]), rnn_states)
            return output.flatten(0, 1), next_states
        length = self.sequence_length
        sequences = states.view(-1, length, states.shape[-1])
        hidden = [
            state.view(self.num_layers, -1, length, state.shape[-1])[:, :, 0, :].contiguous()
            for state in rnn_states
        ]
        if terminated is None or not bool(torch.any(terminated)):
            output, hidden = self._call(sequences, hidden)
            return output.flatten(0, 1), hidden
        ends = terminated.view(-1, length)
        cuts = [0, *(ends[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist(), length]
        outputs = []
        for start, stop in itertools.pairwise(cuts):
            output, hidden = self._call(sequences[:, start:stop], hidden)
            keep = ~ends[:, stop - 1].view(1, -1, 1)
            hidden = [state * keep for state in hidden]
            outputs.append(output)
        return torch.cat(outputs, dim=1).flatten(0, 1), hidden


def _head(inputs, outputs, width=16):
    return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, outputs))


class RecurrentGaussianPolicy(GaussianMixin, Model):
    """A Gaussian policy with mean 2·tanh(head(rnn(states))) (Pendulum's bounds) and a free log-std."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        kind="lstm",
        num_envs=1,
        output_scale=2.0,
        head=16,
        **rnn,
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=True, role="policy")
        self.rnn = RecurrentBody(kind, self.num_observations, num_envs, **rnn)
        self.net = _head(self.rnn.hidden_size, self.num_actions, head)
        self.output_scale = output_scale
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.output_scale * torch.tanh(self.net(features)), self.log_std_parameter, {"rnn": states}


class RecurrentDeterministicPolicy(DeterministicMixin, Model):
    """A deterministic policy 2·tanh(head(rnn(states)))."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        kind="lstm",
        num_envs=1,
        output_scale=2.0,
        head=16,
        **rnn,
    ):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=True, role="policy")
        self.rnn = RecurrentBody(kind, self.num_observations, num_envs, **rnn)
        self.net = _head(self.rnn.hidden_size, self.num_actions, head)
        self.output_scale = output_scale

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.output_scale * torch.tanh(self.net(features)), {"rnn": states}


class RecurrentCritic(DeterministicMixin, Model):
    """Q(s, a) = head([rnn(states), a]): the recurrent layer reads the states, the actions join after it."""

    def __init__(
        self, observation_space, action_space, device="cpu", kind="lstm", num_envs=1, head=16, **rnn
    ):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="critic")
        self.rnn = RecurrentBody(kind, self.num_observations, num_envs, **rnn)
        self.net = _head(self.rnn.hidden_size + self.num_actions, 1, head)

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.net(torch.cat([features, inputs["taken_actions"]], dim=-1)), {"rnn": states}


def recurrent_models(
    name, observation_space, action_space, kind="lstm", num_envs=1, recurrent_critics=True, **rnn
):
    """The model dict of "sac", "td3" or "ddpg" with a recurrent policy (and critics, unless told not).

    ``rnn``: hidden_size, num_layers, sequence_length of every recurrent layer. Targets are separate
    instances (the agents copy their sources' weights into them).
    """
    spaces = (observation_space, action_space, "cpu")
    policy_class = RecurrentGaussianPolicy if name == "sac" else RecurrentDeterministicPolicy
    models = {"policy": policy_class(*spaces, kind=kind, num_envs=num_envs, **rnn)}
    if name != "sac":
        models["target_policy"] = policy_class(*spaces, kind=kind, num_envs=num_envs, **rnn)
    if recurrent_critics:

        def critic():
            return RecurrentCritic(*spaces, kind=kind, num_envs=num_envs, **rnn)

    else:

        def critic():
            return Critic(observation_space, action_space, "cpu", hidden=(16,))

    for role in ("critic",) if name == "ddpg" else ("critic_1", "critic_2"):
        models[role], models[f"target_{role}"] = critic(), critic()
    return models
