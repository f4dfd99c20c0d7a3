"""Reading a checkpoint to migrate from, safely, and recognising its format from its content.

Supported sources:

- a stable-baselines3 ``.zip``: a zip archive whose ``policy.pth`` member is the policy's state
  dict (the ``data`` member, which SB3 itself unpickles with cloudpickle, is never read);
- an rl_games ``.pth``: a torch file holding a dict whose ``"model"`` entry is the state dict;
- a torch file (or an in-memory mapping) holding a state dict, or a dict of state dicts such as an
  rlblocks/skrl agent checkpoint.

Files are read with ``torch.load(..., weights_only=True)``: only tensors, plain containers and
numpy's scalar and dtype reconstructors (which rl_games files need for ``last_mean_rewards``) can
be built. Anything else is refused rather than unpickled, because unpickling runs code.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from rlblocks.utils import load_bounds
from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.load_errors import shorten
from rlblocks.utils.migration import rl_games, sb3
from rlblocks.utils.migration.loading import SUPPORTED, load_weights_only

OPTIMIZER_KEYS = frozenset({"state", "param_groups"})
"""A mapping with these keys is an optimizer state dict: its tensors are skipped."""

SKIPPED_ENTRIES = frozenset({"_rlblocks"})
"""Top-level entries of agent checkpoints that hold bookkeeping (RNG states), not model tensors."""


@dataclass(frozen=True)
class Source:
    """The tensors to migrate from, and where they came from.

    Attributes:
        tensors: tensor name -> tensor, in file order; nested dicts are flattened with dotted
            names ("policy.net.0.weight"), optimizer states are left out.
        library: "stable-baselines3", "rl_games" or "torch" (a plain state dict).
        origin: the path, or "state_dict" for an in-memory mapping; used in messages.
        extras: other top-level tensors a library keeps beside its model (rl_games' separate
            "running_mean_std" entry), flattened like ``tensors``.
    """

    tensors: dict[str, torch.Tensor]
    library: str
    origin: str
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


def read_source(state_dict: Mapping[str, Any] | None, path: str | os.PathLike | None) -> Source:
    """The source given to `migrate`: exactly one of an in-memory mapping or a file path.

    Raises:
        ValueError: neither or both are given, or the content is not a supported checkpoint.
        CheckpointError (a ValueError): the file is missing, unreadable or needs unsafe unpickling.
    """
    if (state_dict is None) == (path is None):
        given = "both" if state_dict is not None else "neither"
        raise ValueError(
            f"Exactly one of state_dict or path may be specified (got {given}): "
            "migrate(path='model.zip') or migrate(state_dict=torch.load('weights.pt', weights_only=True))."
        )
    if state_dict is not None:
        return interpret(state_dict, origin="state_dict")
    return read_file(os.fspath(path))


def read_file(path: str) -> Source:
    """Load and recognise a checkpoint file (see the module docstring for the formats).

    Raises:
        CheckpointError: missing, unreadable or unsafe file, or an unrecognised content.
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"cannot migrate from {path!r}: no such file; {SUPPORTED}.")
    if sb3.is_vec_normalize_file(path):
        raise CheckpointError(
            f"{path!r} is a stable-baselines3 VecNormalize pickle: it holds normalisation statistics, not "
            "weights. Migrate the model from the SB3 .zip, and build the observation preprocessor with "
            "rlblocks.utils.migration.load_normalization(path=...)."
        )
    if zipfile.is_zipfile(path):
        check_zip_integrity(path)
        if not is_torch_archive(path):
            return Source(sb3.read_policy_state_dict(path), "stable-baselines3", path)
    with open(path, "rb") as stream:
        content = load_weights_only(stream, path)
    return interpret(content, origin=path)


def check_zip_integrity(path: str) -> None:
    """Check every member of a zip file (an SB3 archive, torch's own format) against its stored CRC-32.

    torch's zip reader does not check the CRCs, so a flipped byte in a weight would migrate silently.

    Raises:
        CheckpointError: a member does not match its CRC, the archive is damaged, or a member
            declares more than its compressed size allows (`rlblocks.utils.load_bounds`).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            load_bounds.check_archive(archive, path)  # before testzip decompresses every member
            damaged = archive.testzip()
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as error:
        raise CheckpointError(
            f"cannot migrate from {path!r}: a damaged zip archive ({shorten(str(error), 300)})."
        ) from error
    if damaged is not None:
        raise CheckpointError(
            f"cannot migrate from {path!r}: its member {damaged!r} does not match its CRC-32 (a flipped or "
            "truncated byte); the file is damaged. Copy it again from its source."
        )


def is_torch_archive(path: str) -> bool:
    """Whether a zip archive is torch's own file format (``<name>/data.pkl`` inside), not SB3's."""
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/data.pkl") for name in archive.namelist())


def interpret(content: Any, origin: str) -> Source:
    """Recognise a loaded object: an rl_games checkpoint, or a (nested) state dict.

    Raises:
        ValueError: the object holds no tensors, or is not a mapping.
    """
    if not isinstance(content, Mapping):
        raise CheckpointError(
            f"cannot migrate from {origin!r}: it holds a {type(content).__name__}, not a state dict; "
            f"{SUPPORTED}."
        )
    if rl_games.is_checkpoint(content):
        model, extras = rl_games.split_checkpoint(content)
        return Source(flatten_tensors(model), "rl_games", origin, flatten_tensors(extras))
    tensors = flatten_tensors(content)
    if not tensors:
        found = ", ".join(f"{key!r}: {type(value).__name__}" for key, value in list(content.items())[:8])
        raise CheckpointError(
            f"cannot migrate from {origin!r}: it holds no tensors ({{{found}}}); {SUPPORTED}."
        )
    return Source(tensors, "torch", origin)


def flatten_tensors(content: Mapping[str, Any], prefix: str = "") -> dict[str, torch.Tensor]:
    """Tensors of a possibly nested mapping, named by their dotted path, in insertion order.

    Optimizer state dicts and rlblocks' bookkeeping entry are skipped; so are non-tensor values.
    """
    tensors: dict[str, torch.Tensor] = {}
    for key, value in content.items():
        name = f"{prefix}{key}"
        if torch.is_tensor(value):
            tensors[name] = value
        elif isinstance(value, Mapping) and not is_optimizer_state(value) and name not in SKIPPED_ENTRIES:
            tensors.update(flatten_tensors(value, prefix=f"{name}."))
    return tensors


def is_optimizer_state(content: Mapping[str, Any]) -> bool:
    """Whether a mapping is an optimizer's ``state_dict()`` (its moments match parameter shapes)."""
    return set(content) >= OPTIMIZER_KEYS
