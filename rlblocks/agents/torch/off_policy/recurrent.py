"""Recurrent policies and critics in the replay-based actor-critics (SAC, TD3, DDPG).

The contract (skrl 0.10's): a model whose ``get_specification()`` holds ``{"rnn": {"sequence_length":
L, "sizes": [(num_layers·D, num_envs, hidden), ...]}}`` gets ``inputs["rnn"]``, the list of its
current states, and returns the next ones in ``outputs["rnn"]``; in training mode it gets (S·L, ·)
rows, S sequences of L steps, with ``inputs["rnn"]`` (num_layers·D, S·L, hidden) (each sequence's
first row is used) and ``inputs["terminated"]`` (S·L, 1) bool, the episode ends after which it
resets its state.

Acting (`RecurrentStates`): the policy's states go in and out of each ``act``; a recurrent critic is
run on the (state, taken action) of each stored transition, so that its state follows the same
history it sees in training. Each step's *input* states are stored (memory tensors
``rnn_{role}_{i}``: ``rnn_policy_0``, ``rnn_critic_1_0``, ...); then the outputs become the current
states, zeroed by a mask (no host read) for envs whose episode ended (terminated or truncated),
in training and in evaluation alike. A target network has no states of its own: it starts its
sequences from its source's stored states.

Training (`RecurrentStates.sample`): ``batch_size`` runs of L + 1 consecutive steps of one env.
Steps 0..L-1 are the transitions trained on (the *states pass*, from the stored input states of
step 0); their next states are steps 1..L (the *next pass*, from the stored input states of step 1,
which are the states after step 0, reset if step 0 ended its episode). Where a transition did not
end its episode its next state is the next step's state, with the model's state there: the
targets are exact. A terminated transition does not bootstrap. A truncated one bootstraps from the
episode's final observation, which the run does not hold with the model's state there: such
transitions get weight 0 in the critic loss (`ReplayBatch.weights`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import torch


class ModelInputs:
    """The extra inputs of each model role in one pass: ``{"rnn": ..., "terminated": ...}`` or none.

    Args:
        by_role: role -> its extra inputs (roles absent get none).
    """

    def __init__(self, by_role: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.by_role = dict(by_role or {})

    def __call__(self, role: str, **inputs: Any) -> dict[str, Any]:
        """``inputs`` (``states``, ``taken_actions``) plus ``role``'s extra inputs."""
        extra = self.by_role.get(role)
        return inputs if extra is None else {**inputs, **extra}


NO_INPUTS = ModelInputs()
"""The extra inputs of a pass without recurrent models: none."""


class ReplayBatch(NamedTuple):
    """A sampled batch of B transitions (B·L with sequences), states preprocessed.

    Fields: states, actions, rewards, next_states (B, ·), terminated (B, 1) bool; ``inputs`` and
    ``next_inputs``: the models' extra inputs for ``states`` and ``next_states`` (`ModelInputs`);
    ``weights``: None, or (B, 1) per-transition weights of the critic loss.
    """

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_states: torch.Tensor
    terminated: torch.Tensor
    inputs: ModelInputs = NO_INPUTS
    next_inputs: ModelInputs = NO_INPUTS
    weights: torch.Tensor | None = None


def inputs_of(batch: Any) -> ModelInputs:
    """A batch's ``inputs`` (`NO_INPUTS` for a batch without the field)."""
    return getattr(batch, "inputs", NO_INPUTS)


def next_inputs_of(batch: Any) -> ModelInputs:
    """A batch's ``next_inputs`` (`NO_INPUTS` for a batch without the field)."""
    return getattr(batch, "next_inputs", NO_INPUTS)


def rnn_specification(model: Any) -> dict[str, Any]:
    """``model.get_specification()["rnn"]`` ({} for None or a model without recurrent states)."""
    if model is None:
        return {}
    return dict(model.get_specification().get("rnn", {}) or {})


class CarriedStates:
    """One recurrent model's states while acting: the current ones, those its last call returned.

    Attributes:
        names: the memory tensor names ``rnn_{role}_{i}``; sizes: (num_layers·D, num_envs, hidden) each.
        current: the states fed to the next call; pending: the last call's ``outputs["rnn"]`` (or None).
    """

    def __init__(self, role: str, sizes: list[tuple[int, ...]], device: torch.device) -> None:
        self.names = [f"rnn_{role}_{index}" for index in range(len(sizes))]
        self.sizes, self.device = sizes, device
        self.zero()

    def zero(self) -> None:
        """Zero states, nothing pending."""
        self.current = [torch.zeros(size, device=self.device) for size in self.sizes]
        self.pending: list[torch.Tensor] | None = None

    def for_envs(self, num_envs: int) -> list[torch.Tensor]:
        """The current states, replaced by zeros first if they were made for another number of envs.

        The specification's ``num_envs`` need not be the envs acted on (a model built for one env
        trains on many, or evaluates on one what trained on many).
        """
        if self.current[0].shape[1] != num_envs:
            self.current = [
                state.new_zeros(state.shape[0], num_envs, state.shape[2]) for state in self.current
            ]
            self.pending = None
        return self.current

    def samples(self) -> dict[str, torch.Tensor]:
        """The current states as memory samples, envs first: name -> (num_envs, num_layers·D, hidden)."""
        return {name: state.transpose(0, 1) for name, state in zip(self.names, self.current)}

    def commit(self, keep: torch.Tensor | None) -> None:
        """The pending states (if any), times the (1, num_envs, 1) ``keep`` mask, become the current ones."""
        if self.pending is not None:
            self.current = self.pending if keep is None else [state * keep for state in self.pending]
            self.pending = None


class RecurrentStates:
    """The current states of an agent's recurrent models, their stored names, and sequence sampling.

    Args:
        agent_name: for messages.
        models: role -> model (None allowed).
        roles: the roles that may be recurrent, e.g. ("policy", "critic_1", "critic_2").
        target_roles: target role -> its source role (a target reads its source's states).
        device: where the states live.

    Attributes:
        sizes: recurrent role -> its state sizes (num_layers·D, num_envs, hidden).
        names: recurrent role -> the memory tensor names of its states.
        sequence_length: L, common to every recurrent model (1 if none).
        carried: recurrent role -> its `CarriedStates`.

    Raises:
        ValueError: a recurrent model in another role, sizes that are not 3-tuples, or models
            that disagree on the sequence length.
    """

    def __init__(
        self,
        agent_name: str,
        models: Mapping[str, Any],
        roles: Iterable[str],
        target_roles: Mapping[str, str],
        device: torch.device,
    ) -> None:
        roles = tuple(roles)
        specs = {role: rnn_specification(model) for role, model in models.items()}
        unsupported = [role for role, spec in specs.items() if spec.get("sizes") and role not in roles]
        unsupported = [role for role in unsupported if target_roles.get(role) not in roles]
        if unsupported:
            supported = ", ".join(roles) if roles else "none"
            raise ValueError(
                f"{agent_name} does not support recurrent models in the roles {unsupported} (their "
                f'get_specification() has "rnn" sizes); recurrent roles: {supported}.'
            )
        self.sizes: dict[str, list[tuple[int, ...]]] = {}
        lengths = {}
        for role in roles:
            spec = specs.get(role, {})
            sizes = [tuple(int(item) for item in size) for size in spec.get("sizes", [])]
            if any(len(size) != 3 for size in sizes):
                raise ValueError(
                    f'{agent_name}: the {role}\'s get_specification()["rnn"]["sizes"] {sizes} should be '
                    "(num_layers * D, num_envs, hidden_size) tuples"
                )
            if sizes:
                self.sizes[role] = sizes
                lengths[role] = int(spec.get("sequence_length", 1))
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"{agent_name}'s recurrent models must share one sequence_length (the sampled sequences' "
                f"length), got {lengths}"
            )
        self.sequence_length = next(iter(lengths.values()), 1)
        self.target_roles = {
            target: source for target, source in target_roles.items() if source in self.sizes
        }
        self.carried = {role: CarriedStates(role, sizes, device) for role, sizes in self.sizes.items()}
        self.names = {role: carried.names for role, carried in self.carried.items()}

    @property
    def is_recurrent(self) -> bool:
        """Whether any model has recurrent states."""
        return bool(self.sizes)

    def is_recurrent_role(self, role: str) -> bool:
        """Whether ``role``'s model has states."""
        return role in self.sizes

    @property
    def states(self) -> dict[str, list[torch.Tensor]]:
        """Recurrent role -> its current states, each (num_layers·D, num_envs, hidden)."""
        return {role: carried.current for role, carried in self.carried.items()}

    def reset(self) -> None:
        """Zero every state (the start of a run)."""
        for carried in self.carried.values():
            carried.zero()

    # ------------------------------------------------------------------ acting
    def acting_inputs(self, role: str, **inputs: Any) -> dict[str, Any]:
        """``inputs`` plus ``{"rnn": role's current states}`` when ``role`` is recurrent.

        States for another number of envs than ``inputs["states"]`` has rows are replaced by zeros
        of the right size (`CarriedStates.for_envs`).
        """
        carried = self.carried.get(role)
        if carried is None:
            return inputs
        return {**inputs, "rnn": carried.for_envs(inputs["states"].shape[0])}

    def keep(self, role: str, outputs: Mapping[str, Any]) -> None:
        """Note ``outputs["rnn"]``, the states after ``role``'s acting call, as its next states."""
        carried = self.carried.get(role)
        if carried is not None:
            carried.pending = list(outputs["rnn"])

    def stored(self) -> dict[str, torch.Tensor]:
        """The current (input) states as memory samples: name -> (num_envs, num_layers·D, hidden)."""
        samples = {}
        for carried in self.carried.values():
            samples.update(carried.samples())
        return samples

    def advance(self, episode_ends: torch.Tensor | None) -> None:
        """The kept next states become the current ones, zeroed where ``episode_ends`` (num_envs, 1) is True.

        A role not called since the last advance keeps its states. ``episode_ends`` None: none ended.
        """
        keep = None if episode_ends is None else ~episode_ends.reshape(1, -1, 1)
        for carried in self.carried.values():
            carried.commit(keep)

    def create_in(self, memories: Iterable[Any]) -> None:
        """Create the ``rnn_{role}_{i}`` tensors, (num_layers·D, hidden) per sample, in each memory."""
        for memory in memories:
            for carried in self.carried.values():
                for name, (layers, _, hidden) in zip(carried.names, carried.sizes):
                    memory.create_tensor(name, (layers, hidden), torch.float32, keep_dimensions=True)

    # ---------------------------------------------------------------- training
    def sample(self, memory: Any, batch_size: int, preprocess: Any) -> ReplayBatch:
        """``batch_size`` runs of L + 1 steps as a `ReplayBatch` of B·L transitions (module docstring).

        Args:
            memory: holds states, actions, rewards, terminated, truncated and the state tensors.
            batch_size: B, the number of sequences.
            preprocess: the state preprocessor, applied once to the (B·(L+1), obs) states.
        """
        length = self.sequence_length
        state_names = [name for names in self.names.values() for name in names]
        names = ["states", "actions", "rewards", "terminated", "truncated", *state_names]
        runs = {
            name: tensor.view(batch_size, length + 1, *tensor.shape[1:])
            for name, tensor in zip(names, memory.sample(names, batch_size, sequence_length=length + 1)[0])
        }
        runs["states"] = preprocess(runs["states"].flatten(0, 1)).view_as(runs["states"])
        runs["ends"] = runs["terminated"] | runs["truncated"]

        def rows(name: str, first: int) -> torch.Tensor:  # steps first..first+L-1 of every run
            return runs[name][:, first : first + length].flatten(0, 1)

        def pass_inputs(first: int) -> ModelInputs:
            ends = rows("ends", first)
            by_role = {
                role: {
                    "rnn": [rows(name, first).transpose(0, 1).contiguous() for name in names],
                    "terminated": ends,
                }
                for role, names in self.names.items()
            }
            by_role.update({target: by_role[source] for target, source in self.target_roles.items()})
            return ModelInputs(by_role)

        truncated_only = rows("truncated", 0) & ~rows("terminated", 0)
        return ReplayBatch(
            states=rows("states", 0),
            actions=rows("actions", 0),
            rewards=rows("rewards", 0),
            next_states=rows("states", 1),
            terminated=rows("terminated", 0),
            inputs=pass_inputs(0),
            next_inputs=pass_inputs(1),
            weights=(~truncated_only).to(torch.float32),
        )
