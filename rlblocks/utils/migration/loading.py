"""Loading torch files without running code from them: ``weights_only=True`` plus numpy scalars.

``torch.load(..., weights_only=True)`` builds only tensors and plain containers. Real rl_games
checkpoints also hold a numpy scalar (``last_mean_rewards``), so numpy's scalar and dtype
reconstructors are allowed too; they build numbers and dtypes, nothing else.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from typing import Any

import numpy as np
import torch

from rlblocks.utils.checkpoint import CheckpointError, first_line

SUPPORTED = (
    "supported: a stable-baselines3 .zip (with a policy.pth member), an rl_games .pth (a dict with a "
    '"model" state dict), or a torch file holding a state dict (name -> tensor) or a dict of them'
)
"""The end of every 'unrecognised source' error message."""

PICKLE_PROTOCOL_MARKER = b"\x80"
"""The first byte of a pickle of protocol 2 or later (a raw pickle, or torch's legacy format)."""


def load_weights_only(stream: io.IOBase, origin: str) -> Any:
    """``torch.load(stream, weights_only=True)`` with numpy scalars and dtypes also allowed.

    Raises:
        CheckpointError: the file needs other globals (loading it would run code), or is not a
            torch file at all.
    """
    is_pickle = stream.read(1) == PICKLE_PROTOCOL_MARKER
    stream.seek(0)
    try:
        with torch.serialization.safe_globals(numpy_scalar_globals()):
            return torch.load(stream, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        needs = _unsafe_content(str(error))
        if needs is None and not is_pickle:
            raise _unreadable(origin, error) from error
        raise CheckpointError(
            f"refused to load {origin!r}: it can only be loaded by unpickling arbitrary objects "
            f"({needs or 'a pickle the weights-only loader cannot read'}), which could run code from the "
            "file. Only tensors, plain containers and numpy scalars are loaded. If you trust the file, "
            "convert it once in a separate Python session: load it with torch.load and "
            "weights_only=False, torch.save its 'model' entry (or the whole dict if it has none) to "
            "weights.pt, keeping only the tensors; then migrate(path='weights.pt')."
        ) from error
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as error:
        raise _unreadable(origin, error) from error


def _unsafe_content(message: str) -> str | None:
    """What torch's weights-only loader refused to build, from its error message; None if it did not say."""
    match = re.search(r"Unsupported global: GLOBAL (\S+)", message)
    if match:
        return f"it holds {match.group(1)}"
    if "Can only build" in message or "Unsupported class" in message:
        return "it holds objects other than tensors and containers"
    return None


def _unreadable(origin: str, error: BaseException) -> CheckpointError:
    return CheckpointError(
        f"cannot migrate from {origin!r}: it is not a readable torch file ({_cause(error)}); {SUPPORTED}."
    )


def _cause(error: BaseException) -> str:
    """The informative line of a torch loading error (torch's own first lines are generic advice)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("Unsupported", "invalid load key", "PytorchStreamReader")):
            return line
    return first_line(error)


def numpy_scalar_globals() -> list[Any]:
    """The numpy reconstructors rl_games checkpoints need: ``scalar``, ``dtype`` and dtype classes.

    They build numbers and dtypes only. Files written under numpy 1.x name the scalar
    reconstructor ``numpy.core.multiarray.scalar``, so that name is allowed as an alias.
    """
    core = np._core if hasattr(np, "_core") else np.core
    scalar = core.multiarray.scalar
    kinds = "?bBhHiIlLqQefdgFDG"
    dtype_classes = {type(np.dtype(kind)) for kind in kinds}
    return [
        scalar,
        (scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
        *sorted(dtype_classes, key=lambda cls: cls.__name__),
    ]
