"""A memory's whole state as plain tensors and ints, for agent checkpoints, and its checked restore.

`memory_state(memory)` is what a resumed run needs to sample from the same buffer: every tensor
((memory_size, num_envs, *shape) views of the storage, so saving copies nothing), the head
(`memory_index`, `env_index`) and `filled`. `checked_state` compares a loaded state with a live
memory (sizes, names, dtypes, shapes, head) before anything is written, so a failed restore leaves
the memory as it was; `apply_state` then copies it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from rlblocks.utils.checkpoint import CheckpointError

INDEX_KEYS = ("memory_size", "num_envs", "memory_index", "env_index", "filled")
"""The integer entries of a state, next to its "tensors"."""
SIDE_KEY = "side_tensors"
"""A memory attribute of tensors kept beside its rows (e.g. `frames.FrameReplay`'s final frames),
saved under this key of the state when the memory has it. Their first dimension may differ from
the live ones' (a side store that grew): they are replaced, not copied into. The memory attribute
``side_tensors_max_bytes`` bounds their size (for `state_bytes`)."""


def _side(memory: Any) -> dict[str, torch.Tensor]:
    return getattr(memory, SIDE_KEY, None) or {}


def memory_state(memory: Any) -> dict[str, Any]:
    """``memory``'s tensors (views, not copies), head position and ``filled`` flag.

    Returns:
        {"memory_size", "num_envs", "memory_index", "env_index": int, "filled": bool,
        "tensors": {name: (memory_size, num_envs, *shape) tensor}}.
    """
    return {
        "memory_size": memory.memory_size,
        "num_envs": memory.num_envs,
        "memory_index": memory.memory_index,
        "env_index": memory.env_index,
        "filled": bool(memory.filled),
        "tensors": {name: memory.tensors[name].detach() for name in memory.get_tensor_names()},
        **({SIDE_KEY: dict(_side(memory))} if _side(memory) else {}),
    }


def state_bytes(memory: Any) -> int:
    """Bytes of ``memory``'s tensors: about the size of a file holding its `memory_state`."""
    rows = sum(tensor.numel() * tensor.element_size() for tensor in memory.tensors.values())
    side = sum(tensor.numel() * tensor.element_size() for tensor in _side(memory).values())
    return rows + max(side, getattr(memory, "side_tensors_max_bytes", 0))


def checked_state(memory: Any, state: Any, source: str) -> dict[str, Any]:
    """``state`` once it is known to fit ``memory`` exactly; nothing is written to ``memory``.

    Args:
        memory: the live memory.
        state: a loaded `memory_state`.
        source: what the state was read from, e.g. "'run/checkpoints/replay_memory_1000.pt', memory 0",
            for the error messages.

    Raises:
        CheckpointError: a missing or malformed entry, other sizes, tensor names, dtypes or shapes, or a
            head outside the buffer; the message names ``source`` and the entry.
    """
    if not isinstance(state, Mapping) or not isinstance(state.get("tensors"), Mapping):
        raise CheckpointError(f"{source}: not a replay-memory state (no 'tensors' mapping)")
    for key in INDEX_KEYS:
        value = state.get(key)
        valid = (
            isinstance(value, bool)
            if key == "filled"
            else isinstance(value, int) and not isinstance(value, bool)
        )
        if not valid:
            raise CheckpointError(f"{source}: malformed {key!r} {value!r}")
    sizes = (state["memory_size"], state["num_envs"])
    if sizes != (memory.memory_size, memory.num_envs):
        raise CheckpointError(
            f"{source}: a memory of (memory_size, num_envs) = {sizes}, but the live memory holds "
            f"({memory.memory_size}, {memory.num_envs}); resume with the memory size and number of envs "
            "of the run"
        )
    if not 0 <= state["memory_index"] < memory.memory_size or not 0 <= state["env_index"] < memory.num_envs:
        raise CheckpointError(
            f"{source}: head (memory_index, env_index) = ({state['memory_index']}, {state['env_index']}) "
            f"outside the buffer ({memory.memory_size}, {memory.num_envs})"
        )
    tensors = state["tensors"]
    if sorted(tensors) != memory.get_tensor_names():
        raise CheckpointError(
            f"{source}: tensors {sorted(map(str, tensors))}, but the live memory holds "
            f"{memory.get_tensor_names()}; is it a checkpoint of the same agent with the same models?"
        )
    for name in memory.get_tensor_names():
        loaded, live = tensors[name], memory.tensors[name]
        if not torch.is_tensor(loaded) or loaded.shape != live.shape or loaded.dtype != live.dtype:
            found = (
                f"{tuple(loaded.shape)} {loaded.dtype}" if torch.is_tensor(loaded) else type(loaded).__name__
            )
            raise CheckpointError(
                f'{source}: tensor "{name}" is {found}, but the live memory\'s is '
                f"{tuple(live.shape)} {live.dtype}"
            )
    side, loaded_side = _side(memory), state.get(SIDE_KEY, {})
    if not isinstance(loaded_side, Mapping) or sorted(loaded_side) != sorted(side):
        raise CheckpointError(
            f"{source}: side tensors {_names(loaded_side)}, but the live memory holds {sorted(side)}; "
            "was it saved with the same replay_storage?"
        )
    for name, live in side.items():
        loaded = loaded_side[name]
        if not torch.is_tensor(loaded) or loaded.shape[1:] != live.shape[1:] or loaded.dtype != live.dtype:
            raise CheckpointError(
                f'{source}: side tensor "{name}" does not match the live memory\'s '
                f"(·, {', '.join(map(str, live.shape[1:]))}) {live.dtype}"
            )
    return dict(state)


def _names(side: Any) -> Any:
    return sorted(map(str, side)) if isinstance(side, Mapping) else type(side).__name__


def apply_state(memory: Any, state: Mapping[str, Any]) -> None:
    """Copy a `checked_state` into ``memory``: its tensors, head and ``filled``."""
    with torch.no_grad():
        for name, tensor in state["tensors"].items():
            memory.tensors[name].copy_(tensor)
        side = _side(memory)
        for name, tensor in state.get(SIDE_KEY, {}).items():
            if tensor.shape == side[name].shape:
                side[name].copy_(tensor)
            else:
                side[name] = tensor.to(device=side[name].device, copy=True)
    memory.memory_index = state["memory_index"]
    memory.env_index = state["env_index"]
    memory.filled = state["filled"]
