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
  episode boundaries. With ``episode_ends`` the sequences are cut into *segments* at the episode
  ends (`segments`), each starting from its sequence's state (the first) or from zeros, and the
  segments run in one call of the layer, zero-padded to L steps (when there are few: see
  `RecurrentLayer._run_segments`; else step by step, the states zeroed by a mask); without, the
  sequences run in one call. One fused call instead of L steps is about 5x faster on a CPU for
  8 sequences of 32 steps; the padding makes it slower than the steps when there are many
  segments. It costs host reads per call (the segments' count and lengths).
  The states returned are those after each sequence's last step; with ``episode_ends`` they come
  from a second, gradient-free pass over the sequences' last segments (packed, so padding does
  not advance them).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

RECURRENT_LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
"""The layer types by name; an LSTM has two states (hidden and cell), the others one."""

MAX_SEGMENTS_PER_SEQUENCE = 2
"""Above this mean number of segments per sequence a training pass runs step by step (measured on
a CPU: 8 sequences of 32 steps, 1.4 segments each, one padded call 6.8 ms against 33 ms for the
steps, forward and backward; 128 of 64 steps, 4 segments each, 363 ms against 144 ms)."""


class Segments(NamedTuple):
    """S sequences of L steps cut at their episode ends; rows are the sequences' steps, sequence by sequence.

    Fields: ``starts`` (K,) the row where each of the K segments starts; ``lengths`` (K,) int64 on
    the host, their steps; ``sequence`` (K,) the sequence each belongs to; ``is_first`` (K,) bool,
    whether it starts its sequence (else it starts after an episode end, from zero states);
    ``segment`` and ``position`` (S·L,) each row's segment and step in it; ``last_segment`` (S,)
    each sequence's last segment.
    """

    starts: torch.Tensor
    lengths: torch.Tensor
    sequence: torch.Tensor
    is_first: torch.Tensor
    segment: torch.Tensor
    position: torch.Tensor
    last_segment: torch.Tensor


def segments(ends: torch.Tensor) -> Segments:
    """The segments of S sequences whose steps ``ends`` (S, L) bool ended an episode (one host read).

    A segment starts at each sequence's first step and after every episode end but a sequence's
    last step. Example: ends ``[[F, T, F], [F, F, F]]`` -> starts [0, 2, 3], lengths [2, 1, 3].
    """
    num_sequences, length = ends.shape
    is_start = torch.zeros_like(ends)
    is_start[:, 0] = True
    is_start[:, 1:] = ends[:, :-1]
    is_start = is_start.reshape(-1)
    starts = is_start.nonzero().squeeze(1)
    rows = num_sequences * length
    host_starts = starts.cpu()
    lengths = torch.diff(host_starts, append=torch.tensor([rows]))
    segment = is_start.cumsum(0) - 1
    position = torch.arange(rows, device=ends.device) - starts[segment]
    return Segments(
        starts=starts,
        lengths=lengths,
        sequence=starts // length,
        is_first=starts % length == 0,
        segment=segment,
        position=position,
        last_segment=segment.view(num_sequences, length)[:, -1],
    )


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
            return output.reshape(-1, self.hidden_size), self._unpack(hidden)
        return self._run_segments(sequences, self._unpack(hidden), episode_ends.reshape(-1, length))

    def _run_segments(
        self, sequences: torch.Tensor, states: list[torch.Tensor], ends: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(S, L, in) sequences from their (num_layers, S, hidden) start states, reset after ``ends``.

        At most `MAX_SEGMENTS_PER_SEQUENCE` segments per sequence on average: the segments run in
        one call, zero-padded to L steps; more: the padding would cost more than it saves, and the
        sequences run step by step (`_run_steps`). Both give the same features and states.
        """
        cut = segments(ends)
        num_segments, length = cut.starts.shape[0], sequences.shape[1]
        if num_segments > MAX_SEGMENTS_PER_SEQUENCE * sequences.shape[0]:
            return self._run_steps(sequences, states, ends)
        padded = sequences.new_zeros(num_segments, length, sequences.shape[2])
        padded[cut.segment, cut.position] = sequences.reshape(-1, sequences.shape[2])
        keep = cut.is_first.view(1, -1, 1)
        starts = [state[:, cut.sequence] * keep for state in states]
        output, _ = self.layer(padded, self._pack(starts))
        features = output[cut.segment, cut.position]
        with torch.no_grad():
            last = cut.last_segment
            packed = nn.utils.rnn.pack_padded_sequence(
                padded[last], cut.lengths[last.cpu()], batch_first=True, enforce_sorted=False
            )
            _, final = self.layer(packed, self._pack([state[:, last] for state in starts]))
            ended = ~ends[:, -1].view(1, -1, 1)
            final = [state * ended for state in self._unpack(final)]
        return features, final

    def _run_steps(
        self, sequences: torch.Tensor, states: list[torch.Tensor], ends: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """`_run_segments` one step at a time, the states zeroed by a mask after each ended step."""
        keeps = ~ends.reshape(1, ends.shape[0], ends.shape[1], 1)
        hidden = self._pack(states)
        outputs = []
        for step in range(sequences.shape[1]):
            output, hidden = self.layer(sequences[:, step : step + 1], hidden)
            outputs.append(output)
            keep = keeps[:, :, step]
            hidden = tuple(state * keep for state in hidden) if self.num_states == 2 else hidden * keep
        return torch.cat(outputs, dim=1).reshape(-1, self.hidden_size), self._unpack(hidden)

    def _pack(self, states: list[torch.Tensor]) -> Any:
        return (states[0], states[1]) if self.num_states == 2 else states[0]

    def _unpack(self, hidden: Any) -> list[torch.Tensor]:
        return list(hidden) if self.num_states == 2 else [hidden]
