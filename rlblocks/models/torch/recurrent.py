"""`RecurrentLayer`: an RNN, GRU or LSTM layer that follows the agents' recurrent contract.

The contract (skrl 0.10's, see `rlblocks.agents.torch.on_policy.recurrent`): the model declares its
states in ``get_specification()["rnn"]``, reads the current states from ``inputs["rnn"]`` and returns
the next ones in ``outputs["rnn"]``. A model holding a `RecurrentLayer` delegates all three::

    def get_specification(self):
        return self.rnn.specification()

    def compute(self, inputs, role=""):
        features, states = self.rnn(inputs["states"], inputs["rnn"], inputs.get("terminated"))
        return self.net(features), self.log_std_parameter, {"rnn": states}

Two batch layouts, chosen by the layer's ``training`` flag (the model's mode):

- acting (eval mode): (N, in) rows, one step of N environments (or N independent steps, each
  with its own state); states (num_layers, N, hidden).
- training: (S·L, in) rows, S sequences of L consecutive steps, sequence by sequence; states
  (num_layers, S·L, hidden), of which each sequence's first step is used; ``episode_ends``
  (S·L, 1) bool: the state is zeroed after a step that ended its episode, so a sequence may cross
  episode boundaries. The reset is a mask (no host read): the sequence runs step by step when
  ``episode_ends`` is given, in one call otherwise.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

RECURRENT_LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
"""The layer types by name; an LSTM has two states (hidden and cell), the others one."""


class RecurrentLayer(nn.Module):
    """A batch-first ``nn.RNN``/``nn.GRU``/``nn.LSTM`` with the agents' state handling.

    Args:
        kind: "rnn", "gru" or "lstm" (case-insensitive).
        input_size: features of each step's input.
        hidden_size: features of the state (and of the output).
        num_layers: stacked layers.
        sequence_length: L, the steps of each training sequence (the agents read it).
        num_envs: environments acted on at once (the first dimension of the acting states).

    Raises:
        ValueError: an unknown ``kind`` or a size that is not positive.
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        sequence_length: int = 16,
        num_envs: int = 1,
    ) -> None:
        super().__init__()
        key = str(kind).lower()
        if key not in RECURRENT_LAYERS:
            raise ValueError(
                f"Unknown recurrent layer type {kind!r}; supported: {', '.join(RECURRENT_LAYERS)}"
            )
        sizes = {"hidden_size": hidden_size, "num_layers": num_layers, "sequence_length": sequence_length}
        not_positive = {
            name: value for name, value in {**sizes, "num_envs": num_envs}.items() if int(value) < 1
        }
        if not_positive:
            raise ValueError(f"the recurrent layer's sizes must be >= 1, got {not_positive}")
        self.kind = key
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.sequence_length, self.num_envs = int(sequence_length), int(num_envs)
        self.num_states = 2 if key == "lstm" else 1
        self.layer = RECURRENT_LAYERS[key](input_size, hidden_size, num_layers=num_layers, batch_first=True)

    def specification(self) -> dict[str, Any]:
        """``{"rnn": {"sequence_length": L, "sizes": [(num_layers, num_envs, hidden_size), ...]}}``."""
        size = (self.num_layers, self.num_envs, self.hidden_size)
        return {"rnn": {"sequence_length": self.sequence_length, "sizes": [size] * self.num_states}}

    def forward(
        self,
        inputs: torch.Tensor,
        states: list[torch.Tensor],
        episode_ends: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The output features (rows, hidden) and the next states (a list like ``states``).

        Args:
            inputs: (rows, input_size); see the module docstring for the two layouts.
            states: the current states, each (num_layers, rows, hidden_size).
            episode_ends: training only: (rows, 1) bool, True where a step ended its episode.

        Returns:
            (rows, hidden_size) features, and the states after each sequence's (or row's) last step.
        """
        if not self.training:
            output, next_states = self.layer(inputs.unsqueeze(1), self._pack(states))
            return output.squeeze(1), self._unpack(next_states)
        length = self.sequence_length
        sequences = inputs.reshape(-1, length, inputs.shape[-1])
        hidden = self._pack(
            [
                state.reshape(self.num_layers, -1, length, state.shape[-1])[:, :, 0].contiguous()
                for state in states
            ]
        )
        if episode_ends is None:
            output, hidden = self.layer(sequences, hidden)
        else:
            keeps = ~episode_ends.reshape(1, -1, length, 1)
            outputs = []
            for step in range(length):
                output, hidden = self.layer(sequences[:, step : step + 1], hidden)
                outputs.append(output)
                keep = keeps[:, :, step]
                hidden = tuple(state * keep for state in hidden) if self.num_states == 2 else hidden * keep
            output = torch.cat(outputs, dim=1)
        return output.reshape(-1, self.hidden_size), self._unpack(hidden)

    def _pack(self, states: list[torch.Tensor]) -> Any:
        return (states[0], states[1]) if self.num_states == 2 else states[0]

    def _unpack(self, hidden: Any) -> list[torch.Tensor]:
        return list(hidden) if self.num_states == 2 else [hidden]
