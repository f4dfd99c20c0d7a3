"""Writing and reading checkpoint files: atomic writes, and reads that never run pickled code."""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from typing import Any

import torch


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupted, untrusted or of the wrong kind."""


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """`torch.save` to a temporary file beside `path`, then rename it over `path`.

    A crash mid-write leaves the previous file intact: the rename is atomic on POSIX and Windows.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".pt", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(obj, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def safe_load(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> Any:
    """Load a torch file with ``weights_only=True``: tensors and plain containers only.

    Raises:
        CheckpointError: the file is missing, not a torch file, truncated, or needs arbitrary
            unpickling (which would let the file run code).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist (or is not a file); check the path.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"refused to load {path!r}: it holds objects other than tensors and plain containers, and "
            f"loading them would execute code from the file ({first_line(error)}). If you trust the file, "
            "convert it once in a separate Python session: "
            "torch.save(torch.load(path, weights_only=False)['model'], 'weights.pt')."
        ) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as error:
        raise CheckpointError(
            f"{path!r} is not a readable torch checkpoint (corrupted or truncated?): {first_line(error)}"
        ) from error


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, for error texts that quote a cause."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
