"""`FrameReplay`: image transitions stored as one frame per row, next states taken from the next row.

A replay of image observations that stores ``states`` and ``next_states`` separately holds every
frame twice (and, with frame stacks of k frames, each frame 2k times). `FrameReplay` composes a
`Memory` (any, e.g. `RandomMemory`) and writes per row only the newest frame of the state,
``frames`` (H·W values for a (k, H, W) stack; the whole observation with ``stack=1``), with the
flags that rebuild the rest exactly:

- ``first``: the row's state starts an episode (the previous step of its env ended). A stack is
  rebuilt from the k−1 previous rows of the same env; positions before an episode start repeat
  the start frame, as gymnasium's ``FrameStackObservation`` pads (``padding_type="reset"``).
- ``ended``: the episode ended at this step (terminated or truncated, or the next state written
  was not this step's ``next_states``: a resume, an env reset by hand). Its true next state's
  newest frame is kept in a small side store (``final_slot`` names its slot); otherwise the next
  state is the state of the next row of the same env.

Sampled batches are bitwise what a memory with separate ``states``/``next_states`` tensors gives
for the same rows. Rows are drawn uniformly from every written row, as `RandomMemory` draws,
except, once the buffer has wrapped, the k−1 oldest time steps (their stacks reach into rows
already overwritten by the newest). The newest step's next states are the last ``next_states``
written, kept in the side store (its next row is not written yet). Before the buffer wraps, the
first rows' stacks are their reset frames repeated: the write checks make sure they were.

Checks without host syncs: each write compares, on the device, what the rebuild assumes (with
``stack > 1``: ``next_states[:, :-1] == states[:, 1:]`` and a padded first state; and that no side
slot still in use is overwritten); the result is read on the host at the first sample and every
`CHECK_INTERVAL` samples after, raising a ValueError that says what to change.

The side store starts at one slot per 32 rows (plus a margin) and grows: every `GROW_INTERVAL`
writes one host read counts the slots in use, and the store doubles (up to one slot per row)
when the margin runs short, so short episodes never overwrite a slot in use. It (slots, owners,
the write counter and the last ``next_states``) is kept in the memory's ``side_tensors``, so that
`rlblocks.memories.torch.snapshot` saves and restores it with the memory (agent checkpoints);
`Memory.save` exports only the rows.

Per transition of a (4, 84, 84) Atari stack: 7,056 bytes of frame, the other tensors (actions,
rewards, terminated: 13 bytes), 3 flags and an 8-byte slot, and about 220 bytes of side store:
7.3 kB, 7.3 GB for 1M transitions (56.5 GB with separate states and next states).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import torch

from rlblocks.memories.torch.indexes import complete_steps, draw_distinct
from rlblocks.utils.images import image_layout, is_image_space

CHECK_INTERVAL = 1000
"""Samples between two host reads of the write checks (the first sample reads them too)."""
GROW_INTERVAL = 256
"""Writes between two host reads of how many side slots are in use (the store grows when fewer
than 2 · GROW_INTERVAL · num_envs are free, so it never overflows in between)."""
STORED = ("frames", "first", "ended", "final_slot")
"""The tensors `FrameReplay` adds to the memory (besides the other transition tensors)."""


class FrameBatch(NamedTuple):
    """A sampled batch: (B, flat obs) uint8 states and next states, and the other tensors by name."""

    states: torch.Tensor
    next_states: torch.Tensor
    others: list[torch.Tensor]


def default_side_capacity(memory_size: int, num_envs: int) -> int:
    """Final frames kept at first: one per 32 rows and room for 2 · GROW_INTERVAL steps' ends.

    Never more than `max_side_capacity`.
    """
    return min(
        memory_size * num_envs // 32 + 2 * GROW_INTERVAL * num_envs, max_side_capacity(memory_size, num_envs)
    )


def max_side_capacity(memory_size: int, num_envs: int) -> int:
    """Final frames that can be in use at once: one per row, and the step being written."""
    return (memory_size + 2) * num_envs


class FrameReplay:
    """One frame per transition in ``memory`` (see the module docstring).

    Args:
        memory: the memory written to; its tensors are created here.
        observation_shape: the observation's shape, (k, H, W) for a stack of k frames.
        stack: k, the frames per observation (the first dimension); 1 stores whole observations.
        side_capacity: final frames kept at first (None: `default_side_capacity`); the store grows
            (up to `max_side_capacity`) when episodes are shorter than it allows.
    """

    def __init__(
        self,
        memory: Any,
        observation_shape: Sequence[int],
        stack: int = 1,
        side_capacity: int | None = None,
    ) -> None:
        shape = tuple(int(size) for size in observation_shape)
        observation_size = 1
        for size in shape:
            observation_size *= size
        if stack < 1 or (stack > 1 and (len(shape) < 2 or shape[0] != stack)):
            raise ValueError(
                f"stack={stack} does not fit observations of shape {shape}; a stack of k frames is (k, H, W)"
                ", or use stack=1 to store whole observations."
            )
        self.memory = memory
        self.stack = stack
        self.observation_size = observation_size
        self.frame_size = observation_size // stack
        num_envs, device = memory.num_envs, memory.device
        self.num_rows = memory.memory_size * num_envs
        capacity = (
            default_side_capacity(memory.memory_size, num_envs) if side_capacity is None else side_capacity
        )
        if capacity < num_envs:
            raise ValueError(f"side_capacity must be >= num_envs ({num_envs}), got {capacity}")
        self.max_capacity = max_side_capacity(memory.memory_size, num_envs)
        capacity = min(capacity, self.max_capacity)
        memory.side_tensors_max_bytes = (
            (self.max_capacity + 1) * (self.frame_size + 8) + 16 + num_envs * (observation_size + 1)
        )
        memory.create_tensor("frames", self.frame_size, torch.uint8)
        memory.create_tensor("first", 1, torch.bool)
        memory.create_tensor("ended", 1, torch.bool)
        memory.create_tensor("final_slot", 1, torch.int64)
        side = getattr(memory, "side_tensors", None)
        if not side:
            side = {
                "final_frames": torch.zeros(capacity + 1, self.frame_size, dtype=torch.uint8, device=device),
                "final_owner": torch.full((capacity + 1,), -1, dtype=torch.int64, device=device),
                "final_count": torch.zeros((), dtype=torch.int64, device=device),
                "last_next_states": torch.zeros(num_envs, observation_size, dtype=torch.uint8, device=device),
                "last_ended": torch.ones(num_envs, 1, dtype=torch.bool, device=device),
            }
            memory.side_tensors = side
        self.side = side
        self._env_rows = torch.arange(num_envs, device=device)
        self._problems = torch.zeros(2, dtype=torch.bool, device=device)  # not frame stacks, side overflow
        self._samples = 0
        self._writes = 0

    # -- writing -----------------------------------------------------------------------------

    def add(
        self, states: torch.Tensor, next_states: torch.Tensor, ended: torch.Tensor, **others: Any
    ) -> None:
        """Write one time step of every env: (N, *obs) states and next states, (N, 1) ended, others.

        Raises:
            ValueError: not one sample per env at the start of a time step.
        """
        memory, num_envs = self.memory, self.memory.num_envs
        if states.shape[0] != num_envs or memory.env_index != 0:
            raise ValueError(
                f"FrameReplay writes whole time steps: expected {num_envs} states (the memory's num_envs) "
                f"at env_index 0, got {tuple(states.shape)} at env_index {memory.env_index}; create the "
                "memory with num_envs=env.num_envs (one memory per agent scope), or set the agent config "
                'replay_storage="transitions".'
            )
        if self._writes % GROW_INTERVAL == 0 and self.side_capacity < self.max_capacity:
            self._grow_if_needed()
        self._writes += 1
        side = self.side
        flat = states.detach().reshape(num_envs, self.observation_size)
        flat_next = next_states.detach().reshape(num_envs, self.observation_size)
        ended = ended.reshape(num_envs, 1).to(torch.bool)
        # A state that is not the last next state starts a new history: the last row ends there.
        jump = ~side["last_ended"] & (flat != side["last_next_states"]).any(1, keepdim=True)
        first = side["last_ended"] | jump
        rows = memory.memory_index * num_envs + self._env_rows
        if self.stack > 1:
            self._check_stacks(flat, flat_next, first)
        previous = (rows - num_envs) % self.num_rows
        self._keep_final(previous, jump, side["last_next_states"], earlier=True)
        slots = self._keep_final(rows, ended, flat_next, earlier=False)
        newest = flat.view(num_envs, self.stack, self.frame_size)[:, -1]
        memory.add_samples(frames=newest, first=first, ended=ended, final_slot=slots, **others)
        side["last_next_states"].copy_(flat_next)
        side["last_ended"].copy_(ended)

    def _check_stacks(self, flat: torch.Tensor, flat_next: torch.Tensor, first: torch.Tensor) -> None:
        """Note, on the device, a write that is not a (reset-padded) frame stack."""
        stacks = flat.view(-1, self.stack, self.frame_size)
        next_stacks = flat_next.view(-1, self.stack, self.frame_size)
        shifted = (next_stacks[:, :-1] != stacks[:, 1:]).flatten(1).any(1)
        padded = (stacks != stacks[:, -1:]).flatten(1).any(1) & first.view(-1)
        self._problems[0] |= (shifted | padded).any()

    def _keep_final(
        self, rows: torch.Tensor, ended: torch.Tensor, flat_next: torch.Tensor, earlier: bool
    ) -> torch.Tensor:
        """Keep the newest frame of ``flat_next`` for the ended ``rows``; returns their slots (else −1).

        A row whose episode did not end writes to the spare slot ``side_capacity``. With
        ``earlier`` the rows are the previous step's (a jump): their ``ended``/``final_slot`` are set here.
        """
        side, capacity, memory = self.side, self.side_capacity, self.memory
        ended = ended.view(-1)
        order = torch.cumsum(ended.long(), 0) - 1
        slots = torch.where(ended, (side["final_count"] + order) % capacity, capacity)
        owners = side["final_owner"][slots]
        live = owners >= 0
        owners = owners.clamp(min=0)
        in_use = (
            live
            & memory.tensors_view["ended"].view(-1)[owners]
            & (memory.tensors_view["final_slot"].view(-1)[owners] == slots)
            & (owners // memory.num_envs != memory.memory_index)  # this step's rows are being rewritten
        )
        self._problems[1] |= (in_use & ended).any()
        last = self.stack - 1
        frames = flat_next.view(-1, self.stack, self.frame_size)[:, last]
        side["final_frames"].index_copy_(0, slots, frames)
        side["final_owner"].index_copy_(0, slots, torch.where(ended, rows, -1))
        side["final_count"] += ended.sum()
        stored = torch.where(ended, slots, -1).view(-1, 1)
        if earlier:
            view_ended, view_slot = memory.tensors_view["ended"], memory.tensors_view["final_slot"]
            view_ended[rows] = view_ended[rows] | ended.view(-1, 1)
            view_slot[rows] = torch.where(ended.view(-1, 1), stored, view_slot[rows])
        return stored

    @property
    def side_capacity(self) -> int:
        """Final frames the side store holds now (its last slot is a spare one)."""
        return self.side["final_frames"].shape[0] - 1

    def _grow_if_needed(self) -> None:
        """Read the slots in use (one host sync); with too few free, grow the store.

        The slots are rewritten oldest first into the larger store (the rows' ``final_slot``
        follow), so that the next ends go to the new, free slots.
        """
        side, memory, capacity = self.side, self.memory, self.side_capacity
        margin = 2 * GROW_INTERVAL * memory.num_envs
        in_use = int(memory.tensors_view["ended"].sum())
        if capacity - in_use >= margin:
            return
        grown = min(max(2 * capacity, in_use + 2 * margin), self.max_capacity)
        start = int(side["final_count"]) % capacity
        order = (torch.arange(capacity, device=memory.device) + start) % capacity
        frames = side["final_frames"].new_zeros((grown + 1, self.frame_size))
        frames[:capacity] = side["final_frames"][order]
        owners = side["final_owner"].new_full((grown + 1,), -1)
        owners[:capacity] = side["final_owner"][order]
        slots = memory.tensors_view["final_slot"]
        slots.copy_(torch.where(slots >= 0, (slots - start) % capacity, -1))
        side["final_frames"], side["final_owner"] = frames, owners
        side["final_count"].fill_(capacity)

    # -- sampling ----------------------------------------------------------------------------

    def sample(self, names: Sequence[str], batch_size: int) -> FrameBatch:
        """``batch_size`` uniform rows (see the module docstring): states, next states and ``names``.

        Raises:
            ValueError: too few complete time steps, or the write checks failed.
        """
        memory, num_envs = self.memory, self.memory.num_envs
        if self._samples % CHECK_INTERVAL == 0:
            self.check()
        self._samples += 1
        first_step, num_steps = complete_steps(
            memory.memory_index, memory.env_index, memory.filled, memory.memory_size
        )
        skipped = self.stack - 1 if memory.filled else 0  # their stacks reach into overwritten rows
        count = (num_steps - skipped) * num_envs
        if count < 1:
            raise ValueError(
                f"the memory holds {num_steps} complete time steps, too few to sample stacks of "
                f"{self.stack} frames from: add samples first (or sample after learning_starts)."
            )
        if getattr(memory, "_replacement", True):
            draws = torch.randint(count, (batch_size,), device=memory.device)
        else:
            draws = draw_distinct(count, batch_size, memory.device)
        steps = (first_step + skipped + draws // num_envs) % memory.memory_size
        rows = steps * num_envs + draws % num_envs
        memory.sampling_indexes = rows
        return self.gather(names, rows)

    def gather(self, names: Sequence[str], rows: torch.Tensor) -> FrameBatch:
        """The transitions at flat ``rows`` (written, whose stacks are not overwritten), ``names`` too."""
        memory, num_envs = self.memory, self.memory.num_envs
        frames = memory.tensors_view["frames"]
        first = memory.tensors_view["first"].view(-1)
        ended, slots, *others = memory.sample_by_index(["ended", "final_slot", *names], rows)[0]
        count, stack = rows.shape[0], self.stack
        sources = rows.new_empty((count, stack + 1))  # the rows of each stack's frames, then the next row's
        sources[:, stack - 1] = current = rows
        for position in range(stack - 2, -1, -1):
            current = torch.where(first[current], current, (current - num_envs) % self.num_rows)
            sources[:, position] = current
        sources[:, stack] = (rows + num_envs) % self.num_rows
        block = frames.index_select(0, sources.view(-1)).view(count, stack + 1, self.frame_size)
        # An ended episode's next frame is in the side store; the newest step's next frames are the last ones.
        newest = (rows // num_envs == (memory.memory_index - 1) % memory.memory_size).view(-1, 1)
        last = self.side["last_next_states"].view(num_envs, stack, self.frame_size)[:, -1]
        final = self.side["final_frames"].index_select(0, slots.view(-1).clamp(min=0))
        kept = _select(ended.view(-1, 1), final, last.index_select(0, rows % num_envs))
        block[:, stack] = _select(ended.view(-1, 1) | newest, kept, block[:, stack])
        return FrameBatch(block[:, :stack].reshape(count, -1), block[:, 1:].reshape(count, -1), others)

    def check(self) -> None:
        """Read the write checks on the host (one sync).

        Raises:
            ValueError: observations that are not reset-padded frame stacks, or more episode ends
                alive in the memory than the side store holds.
        """
        not_stacks, overflow = self._problems.tolist()
        if not_stacks:
            raise ValueError(
                f"the observations are not stacks of {self.stack} frames (next_states[:, :-1] != "
                "states[:, 1:], or a first state not padded with its reset frame, as gymnasium's "
                "FrameStackObservation pads; or a stored step does not follow the last one mid-episode, "
                'e.g. one skipped by non_finite="warn-and-skip"): set the agent config '
                'replay_storage="next_row" (or "transitions").'
            )
        if overflow:
            raise ValueError(
                f"a final frame still in use was overwritten in the side store of {self.side_capacity} "
                "(more episode ends than it grew for): set the agent config replay_side_capacity to a "
                'larger number, or replay_storage="transitions".'
            )


def frames_per_row(setting: str, space: Any) -> int:
    """The ``stack`` of a `FrameReplay` for ``replay_storage`` ``setting``; 0: separate next states.

    "auto" (see `OffPolicyConfig.replay_storage`): k for a uint8 (k, H, W) space with k in (2, 4..8)
    and H, W >= 32, 1 for other image spaces, 0 otherwise.

    Raises:
        ValueError: "next_row" or "frames" for a space that is not an image, or "frames" for one
            that is not channels first.
    """
    if setting == "transitions":
        return 0
    layout = image_layout(space) if is_image_space(space) else None
    shape = tuple(int(size) for size in getattr(space, "shape", ()) or ())
    if setting == "auto":
        if layout is None:
            return 0
        is_stack = len(shape) == 3 and not layout.channels_last and layout.channels in (2, 4, 5, 6, 7, 8)
        return layout.channels if is_stack and min(shape[1:]) >= 32 else 1
    if layout is None:
        raise ValueError(
            f'replay_storage="{setting}" needs uint8 image observations (a Box of shape (C, H, W), '
            f'(H, W, C) or (H, W)), got {space!r}; use "transitions".'
        )
    if setting == "next_row":
        return 1
    if len(shape) != 3 or layout.channels_last:
        raise ValueError(
            f'replay_storage="frames" needs frame stacks of shape (k, H, W), got {shape}; use "next_row".'
        )
    return shape[0]


def _select(mask: torch.Tensor, chosen: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``torch.where(mask, chosen, other)`` for (B, F) uint8 rows and a (B, 1) mask.

    The rows are compared as the widest integers that divide F (8 bytes for an 84×84 frame):
    ``where`` on uint8 elements is several times slower.
    """
    width = chosen.shape[1]
    for dtype, size in ((torch.int64, 8), (torch.int32, 4), (torch.int16, 2)):
        if width % size == 0 and chosen.is_contiguous() and other.stride(1) == 1:
            return torch.where(mask, chosen.view(dtype), other.view(dtype)).view(torch.uint8)
    return torch.where(mask, chosen, other)
