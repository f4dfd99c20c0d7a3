"""Recurrent policies and values in the on-policy agents: the states carried while acting, and their rows.

The contract (skrl 0.10's, `docs/differences.md` "Recurrent models" lists where rlblocks differs):
a model whose ``get_specification()`` has ``{"rnn": {"sequence_length": L, "sizes": [...]}}``
(one ``(num_layers·D, num_envs, hidden)`` size per state) gets ``inputs["rnn"]``, the list of its
current states (zeros at the start), and returns the next ones in ``outputs["rnn"]``.

`RecurrentStates` keeps them while acting: each step's *input* states are stored (memory tensors
``rnn_policy_{i}`` and ``rnn_value_{i}``, (rollouts, num_envs, num_layers·D, hidden); one set when
policy and value are one object), the outputs become the next step's inputs, and the states of
envs whose episode ended (terminated or truncated) are zeroed by a mask, with no host read.

In the update the rollout's rows are re-ordered into sequences (`sequence_rows`): L consecutive
steps of one env, env by env; a model in training mode gets ``inputs["rnn"]`` as (num_layers·D,
S·L, hidden) states (the sequence-start ones are used) and ``inputs["terminated"]`` (S·L, 1), the
episode ends (terminated | truncated), so it can reset inside a sequence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from rlblocks.memories.torch.indexes import env_major_order


def sequence_rows(rollouts: int, num_envs: int, device: torch.device | None = None) -> torch.Tensor:
    """The rollout's time-major rows ``t·num_envs + e`` env by env: each env's steps 0..rollouts-1.

    Cut into runs of L rows (L dividing ``rollouts``), every run is a sequence of one env.
    """
    return env_major_order(rollouts, num_envs, device)


def shuffled_sequences(
    num_rows: int, sequence_length: int, device: torch.device | None = None
) -> torch.Tensor:
    """(num_rows,) rows of sequence-ordered data with the sequences (runs of L rows) in random order."""
    starts = torch.randperm(num_rows // sequence_length, device=device) * sequence_length
    return (starts.unsqueeze(1) + torch.arange(sequence_length, device=device)).reshape(-1)


def check_sequences(
    agent_name: str, sequence_length: int, rollouts: int, num_envs: int, mini_batches: int
) -> None:
    """Refuse a rollout or mini-batch split that would cut a sequence.

    Raises:
        ValueError: ``rollouts`` is not a multiple of L, or there are fewer sequences than mini-batches.
    """
    if rollouts % sequence_length:
        raise ValueError(
            f"{agent_name} trains a recurrent model on sequences of sequence_length={sequence_length} "
            f'steps of one env, but cfg["rollouts"]={rollouts} is not a multiple of it, so a sequence '
            f"would be cut; use rollouts={-(-rollouts // sequence_length) * sequence_length} (and a memory "
            "of that size) or a sequence_length that divides rollouts."
        )
    num_sequences = rollouts // sequence_length * num_envs
    if mini_batches > num_sequences:
        raise ValueError(
            f"{agent_name}'s rollout holds {num_sequences} sequences (rollouts={rollouts} / "
            f"sequence_length={sequence_length} x num_envs={num_envs}), fewer than "
            f'cfg["mini_batches"]={mini_batches}: a mini-batch would split a sequence; use '
            f"mini_batches <= {num_sequences}, or more rollouts or envs."
        )


def _rnn_specification(model: Any) -> dict[str, Any]:
    if model is None:
        return {}
    return dict(model.get_specification().get("rnn", {}) or {})


class RecurrentStates:
    """The current recurrent states of the policy and the value, and the names they are stored under.

    Args:
        policy, value: the models (``value`` may be None or the policy itself).
        device: where the states live.
        num_envs: the environments acted on (default: the specification's ``num_envs``).

    Attributes:
        sequence_length: L, from the policy's specification (else the value's; 1 if neither says).
        states: role ("policy", "value") -> its current states, each (num_layers·D, num_envs, hidden);
            a role without recurrent states is absent (a shared model: "policy" only).
        names: role -> the memory tensor names of its states.
        next_states: role -> the states the last `act` returned (None until then).
        is_value_shared: policy and value are one object (one set of states).

    Raises:
        ValueError: a size that is not a 3-tuple.
    """

    def __init__(self, policy: Any, value: Any, device: torch.device, num_envs: int | None = None) -> None:
        self.is_value_shared = value is policy
        specs = {"policy": _rnn_specification(policy)}
        if value is not None and not self.is_value_shared:
            specs["value"] = _rnn_specification(value)
        lengths = [spec["sequence_length"] for spec in specs.values() if "sequence_length" in spec]
        self.sequence_length = int(lengths[0]) if lengths else 1
        self.sizes: dict[str, list[tuple[int, int, int]]] = {}
        for role, spec in specs.items():
            sizes = [tuple(int(item) for item in size) for size in spec.get("sizes", [])]
            for size in sizes:
                if len(size) != 3:
                    raise ValueError(
                        f'the {role}\'s get_specification()["rnn"]["sizes"] entry {size} should be '
                        "(num_layers * D, num_envs, hidden_size)"
                    )
            if sizes:  # the states are made for the envs acted on, whatever num_envs the sizes say
                self.sizes[role] = [
                    size if num_envs is None else (size[0], num_envs, size[2]) for size in sizes
                ]
        self.device = device
        self.names = {
            role: [f"rnn_{role}_{i}" for i in range(len(sizes))] for role, sizes in self.sizes.items()
        }
        self.states: dict[str, list[torch.Tensor]] = {}
        self.next_states: dict[str, list[torch.Tensor] | None] = {}
        self.reset()

    @property
    def is_recurrent(self) -> bool:
        """Whether any model has recurrent states."""
        return bool(self.sizes)

    def role_of(self, role: str) -> str | None:
        """The role whose states ``role`` reads ("value" reads the policy's when shared); None: no states."""
        if role == "value" and self.is_value_shared:
            role = "policy"
        return role if role in self.sizes else None

    def reset(self) -> None:
        """Zero every state (the start of a run)."""
        self.states = {
            role: [torch.zeros(size, device=self.device) for size in sizes]
            for role, sizes in self.sizes.items()
        }
        self.next_states = dict.fromkeys(self.sizes)

    def acting_inputs(self, role: str, num_envs: int) -> dict[str, Any]:
        """``{"rnn": current states}`` for a call of ``role`` on ``num_envs`` envs ({} without states).

        States for another number of envs (say, evaluating on one env what trained on many) are
        replaced by zeros of the right size.
        """
        owner = self.role_of(role)
        if owner is None:
            return {}
        states = self.states[owner]
        if states[0].shape[1] != num_envs:
            states = [state.new_zeros(state.shape[0], num_envs, state.shape[2]) for state in states]
            self.states[owner] = states
        return {"rnn": states}

    def keep_outputs(self, role: str, outputs: dict[str, Any]) -> None:
        """Note ``outputs["rnn"]`` of the acting call of ``role`` as its next states."""
        if role in self.sizes:
            self.next_states[role] = list(outputs["rnn"])

    def stored(self) -> dict[str, torch.Tensor]:
        """The current (input) states as memory rows: name -> (num_envs, num_layers·D, hidden)."""
        return {
            name: state.transpose(0, 1)
            for role, states in self.states.items()
            for name, state in zip(self.names[role], states)
        }

    def advance(self, episode_ends: torch.Tensor | None) -> None:
        """Make the last `act`'s outputs the current states, zero where ``episode_ends`` (num_envs, 1).

        A role whose model was not called since the last advance keeps its states (the value while
        evaluating). ``episode_ends`` None: no episode ended.
        """
        keep = None if episode_ends is None else ~episode_ends.reshape(1, -1, 1)
        for role, next_states in self.next_states.items():
            if next_states is None:
                continue
            self.states[role] = next_states if keep is None else [state * keep for state in next_states]
            self.next_states[role] = None

    def create_in(self, memories: Iterable[Any]) -> None:
        """Create the ``rnn_{role}_{i}`` tensors, (num_layers·D, hidden) per row, in each memory."""
        for memory in memories:
            for role, sizes in self.sizes.items():
                for name, size in zip(self.names[role], sizes):
                    memory.create_tensor(
                        name=name, size=(size[0], size[2]), dtype=torch.float32, keep_dimensions=True
                    )

    def stored_rows(self, memory: Any, rows: torch.Tensor | None = None) -> torch.Tensor:
        """The stored states of the memory's ``rows`` (None: all, time-major), flattened side by side."""
        parts = []
        for names in self.names.values():
            for name in names:
                tensor = memory.get_tensor_by_name(name, keepdim=False)
                tensor = tensor if rows is None else tensor[rows]
                parts.append(tensor.reshape(tensor.shape[0], -1))
        return torch.cat(parts, dim=1)

    def model_inputs(self, role: str, rnn_states: torch.Tensor) -> list[torch.Tensor]:
        """``role``'s states out of `stored_rows`: each (num_layers·D, rows, hidden), contiguous."""
        owner = self.role_of(role)
        start, states = 0, []
        for other, sizes in self.sizes.items():
            for layers, _, hidden in sizes:
                if other == owner:
                    block = rnn_states[:, start : start + layers * hidden]
                    states.append(block.reshape(-1, layers, hidden).transpose(0, 1).contiguous())
                start += layers * hidden
        return states
