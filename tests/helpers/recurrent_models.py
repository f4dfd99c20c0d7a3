"""Recurrent models for the on-policy agent tests (RNN, GRU and LSTM policies and values).

`DocumentedLSTMPolicy` follows skrl's documented recurrent example model (the LSTM Gaussian policy
of the model docs): it reshapes the (N·L, ·) training batch into sequences, takes each sequence's
first state, and resets its state inside a sequence after a step whose ``inputs["terminated"]`` is
set, by splitting the sequence at those steps (host reads: it is user code). The other models use
`rlblocks.models.torch.recurrent.RecurrentLayer`, which resets by masks.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model
from rlblocks.models.torch.recurrent import RecurrentLayer


class DocumentedLSTMPolicy(GaussianMixin, Model):
    """skrl's documented LSTM Gaussian policy: LSTM(obs -> hidden), then an MLP to the mean."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        num_envs=1,
        num_layers=1,
        hidden_size=16,
        sequence_length=4,
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=False, role="policy")
        self.num_envs, self.num_layers = num_envs, num_layers
        self.hidden_size, self.sequence_length = hidden_size, sequence_length
        self.lstm = nn.LSTM(self.num_observations, hidden_size, num_layers=num_layers, batch_first=True)
        self.net = nn.Sequential(nn.Linear(hidden_size, 16), nn.Tanh(), nn.Linear(16, self.num_actions))
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def get_specification(self):
        size = (self.num_layers, self.num_envs, self.hidden_size)
        return {"rnn": {"sequence_length": self.sequence_length, "sizes": [size, size]}}

    def compute(self, inputs, role=""):
        states = inputs["states"]
        terminated = inputs.get("terminated")
        hidden, cell = inputs["rnn"][0], inputs["rnn"][1]
        if self.training:
            length = self.sequence_length
            sequences = states.view(-1, length, states.shape[-1])  # (N, L, obs)
            hidden = hidden.view(self.num_layers, -1, length, hidden.shape[-1])[:, :, 0, :].contiguous()
            cell = cell.view(self.num_layers, -1, length, cell.shape[-1])[:, :, 0, :].contiguous()
            if terminated is not None and torch.any(terminated):
                terminated = terminated.view(-1, length)
                cuts = (terminated[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist()
                bounds = [0, *cuts, length]
                outputs = []
                for start, end in itertools.pairwise(bounds):
                    output, (hidden, cell) = self.lstm(sequences[:, start:end, :], (hidden, cell))
                    ended = terminated[:, end - 1]
                    hidden[:, ended, :] = 0
                    cell[:, ended, :] = 0
                    outputs.append(output)
                output = torch.cat(outputs, dim=1)
            else:
                output, (hidden, cell) = self.lstm(sequences, (hidden, cell))
        else:
            output, (hidden, cell) = self.lstm(states.view(-1, 1, states.shape[-1]), (hidden, cell))
        output = torch.flatten(output, start_dim=0, end_dim=1)
        return self.net(output), self.log_std_parameter, {"rnn": [hidden, cell]}


def _layer(model, kind, num_envs, hidden_size, sequence_length, num_layers=1):
    return RecurrentLayer(kind, model.num_observations, hidden_size, num_layers, sequence_length, num_envs)


class RecurrentGaussianPolicy(GaussianMixin, Model):
    """A recurrent layer ("rnn", "gru" or "lstm") and a linear mean head."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        kind="lstm",
        num_envs=1,
        hidden_size=16,
        sequence_length=4,
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=False, role="policy")
        self.rnn = _layer(self, kind, num_envs, hidden_size, sequence_length)
        self.head = nn.Linear(hidden_size, self.num_actions)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.head(features), self.log_std_parameter, {"rnn": states}


class RecurrentCategoricalPolicy(CategoricalMixin, Model):
    """A recurrent layer and a linear logits head."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        kind="lstm",
        num_envs=1,
        hidden_size=16,
        sequence_length=4,
    ):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, role="policy")
        self.rnn = _layer(self, kind, num_envs, hidden_size, sequence_length)
        self.head = nn.Linear(hidden_size, self.num_actions)

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.head(features), {"rnn": states}


class RecurrentValue(DeterministicMixin, Model):
    """A recurrent layer and a linear (N, 1) value head."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        kind="gru",
        num_envs=1,
        hidden_size=16,
        sequence_length=4,
    ):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="value")
        self.rnn = _layer(self, kind, num_envs, hidden_size, sequence_length)
        self.head = nn.Linear(hidden_size, 1)

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.head(features), {"rnn": states}


class RecurrentSharedModel(GaussianMixin, DeterministicMixin, Model):
    """One recurrent trunk serving as "policy" (mean head) and "value" (value head): one set of states."""

    def __init__(
        self,
        observation_space,
        action_space,
        device="cpu",
        kind="lstm",
        num_envs=1,
        hidden_size=16,
        sequence_length=4,
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=False, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.rnn = _layer(self, kind, num_envs, hidden_size, sequence_length)
        self.mean_head = nn.Linear(hidden_size, self.num_actions)
        self.value_head = nn.Linear(hidden_size, 1)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def get_specification(self):
        return self.rnn.specification()

    def act(self, inputs, role=""):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role)
        return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        if role == "policy":
            return self.mean_head(features), self.log_std_parameter, {"rnn": states}
        return self.value_head(features), {"rnn": states}
