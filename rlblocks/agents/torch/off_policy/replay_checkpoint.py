"""The replay memory saved beside an agent checkpoint, so that a resumed run samples the same buffer.

``write_checkpoint`` writes ``checkpoints/replay_memory_<t>.pt`` first, then ``agent_<t>.pt``,
whose metadata names the replay file and its digest (the pairing), then removes the replay files of
earlier checkpoints: a crash at any point leaves the latest agent checkpoint with its replay file,
and the directory holds one buffer, not one per checkpoint. ``Agent.save(path)`` writes
``<path stem>.replay_memory.pt`` beside ``path``.

A replay file holds ``{"memories": [memory_state, ...], "_rlblocks": {"format_version", "timestep",
"digest"}}`` (see `rlblocks.memories.torch.snapshot`). Reading it is weights-only, bounded (the
sizes the zip archive declares are checked against the live memories' before torch reads it) and
checked (digest, then every memory against the live one) before anything is applied.
"""

from __future__ import annotations

import contextlib
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from rlblocks.memories.torch.snapshot import checked_state, memory_state, state_bytes
from rlblocks.utils.checkpoint import CheckpointError, atomic_save, content_digest, safe_load

FORMAT_VERSION = 1
META_KEY = "_rlblocks"
CHECKPOINT_PREFIX = "replay_memory_"
"""``write_checkpoint``'s replay files: ``replay_memory_<tag>.pt`` (the tag of ``agent_<tag>.pt``)."""
SAVE_SUFFIX = ".replay_memory.pt"
"""``Agent.save(path)``'s replay file: ``<path without .pt>.replay_memory.pt``."""
_CHECKPOINT_FILE = re.compile(rf"{CHECKPOINT_PREFIX}[0-9_-]+\.pt")
_SLACK_BYTES = 1 << 16
"""Room for the archive's pickles and records beyond the tensor bytes."""


def checkpoint_file_name(tag: str) -> str:
    """``replay_memory_<tag>.pt``, the replay file of ``agent_<tag>.pt``."""
    return f"{CHECKPOINT_PREFIX}{tag}.pt"


def save_file_path(path: str) -> str:
    """The replay file written with ``Agent.save(path)``."""
    root, extension = os.path.splitext(path)
    return (root if extension == ".pt" else path) + SAVE_SUFFIX


def _digest(memories: Any, timestep: Any) -> str:
    return content_digest({"memories": memories, "timestep": timestep})


def save_replay(memories: Sequence[Any], path: str, timestep: int) -> dict[str, Any]:
    """Write the states of ``memories`` to ``path`` atomically.

    Returns:
        the record an agent checkpoint keeps to find and verify it: ``{"file": basename, "digest"}``.
    """
    states = [memory_state(memory) for memory in memories]
    digest = _digest(states, timestep)
    content = {
        "memories": states,
        META_KEY: {"format_version": FORMAT_VERSION, "timestep": timestep, "digest": digest},
    }
    atomic_save(content, path)
    return {"file": os.path.basename(path), "digest": digest}


def replay_path(checkpoint_path: str, record: Mapping[str, Any]) -> str:
    """Where the replay file ``record`` names lies: beside the checkpoint.

    Raises:
        CheckpointError: the record does not name a plain file name (no folders).
    """
    name = record.get("file")
    if not isinstance(name, str) or not name or os.path.basename(name) != name or name.startswith("."):
        raise CheckpointError(
            f"{checkpoint_path!r} names a malformed replay-memory file {name!r}; expected a file name "
            "beside it. Nothing was loaded."
        )
    return os.path.join(os.path.dirname(os.path.abspath(checkpoint_path)), name)


def read_replay(memories: Sequence[Any], path: str, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The memory states in the replay file ``path``, checked against ``memories`` and ``record``.

    Nothing is written to ``memories``: apply the states with `snapshot.apply_state`.

    Raises:
        CheckpointError: the file is larger than the live memories can hold, unreadable, damaged
            (digest), not the one the agent checkpoint was written with, or holds memories of other
            sizes, tensors or shapes; the message names the file (and the memory and tensor).
    """
    limit = sum(state_bytes(memory) for memory in memories) * 21 // 20 + _SLACK_BYTES
    _check_declared_size(path, limit)
    content = safe_load(path, map_location=memories[0].device if memories else "cpu")
    meta = content.get(META_KEY) if isinstance(content, Mapping) else None
    states = content.get("memories") if isinstance(content, Mapping) else None
    if not isinstance(meta, Mapping) or not isinstance(states, list):
        raise CheckpointError(
            f"{path!r} is not a replay-memory file written by rlblocks. Nothing was loaded."
        )
    if _digest(states, meta.get("timestep")) != meta.get("digest"):
        raise CheckpointError(
            f"{path!r} is damaged: its content does not match the digest written with it. Nothing was "
            f"loaded; delete it to resume with an empty replay memory."
        )
    if meta.get("digest") != record.get("digest"):
        raise CheckpointError(
            f"{path!r} is not the replay memory its agent checkpoint was written with (another "
            "checkpoint's?). Nothing was loaded; delete it to resume with an empty replay memory."
        )
    if len(states) != len(memories):
        raise CheckpointError(
            f"{path!r} holds {len(states)} memories, the agent has {len(memories)}. Nothing was loaded."
        )
    return [
        checked_state(memory, state, f"{path!r}, memory {index}")
        for index, (memory, state) in enumerate(zip(memories, states))
    ]


def _check_declared_size(path: str, limit: int) -> None:
    """Refuse, before torch reads it, a file whose archive declares more than ``limit`` bytes."""
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except FileNotFoundError:
        raise CheckpointError(f"replay-memory file {path!r} does not exist.") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise CheckpointError(
            f"{path!r} is not a replay-memory file written by rlblocks (not a torch zip archive: {error}). "
            "Nothing was loaded."
        ) from None
    if declared > limit:
        raise CheckpointError(
            f"{path!r} declares {declared:,} bytes of data, more than the {limit:,} the agent's memories "
            "hold; it belongs to a larger memory or is damaged. Nothing was loaded."
        )


def remove_stale_replays(directory: str, keep: str) -> None:
    """Remove the ``replay_memory_<tag>.pt`` files of ``directory`` other than ``keep``."""
    for name in os.listdir(directory):
        if name != keep and _CHECKPOINT_FILE.fullmatch(name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(directory, name))
