"""Writing and reading checkpoint files: atomic writes, and reads that never run pickled code."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
import warnings
from collections.abc import Callable
from typing import Any, BinaryIO

import torch

from rlblocks.utils import temporary_files


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupted, untrusted or of the wrong kind."""


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], suffix: str = "") -> None:
    """Call ``write(stream)`` on a temporary file beside `path`, then rename it over `path`.

    A crash mid-write leaves the previous file intact: the rename is atomic on POSIX and Windows,
    and the data is flushed to disk first. On failure the temporary file is removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=temporary_files.prefix(), suffix=suffix, dir=directory)
    temporary_files.being_written.add(temporary)  # never an orphan, for remove_orphan_temporaries
    try:
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp makes 0600; files follow the umask
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    finally:
        temporary_files.being_written.discard(temporary)


def _current_umask() -> int:
    """The process umask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """`torch.save` to a temporary file beside `path`, then rename it over `path` (see `atomic_write`)."""
    atomic_write(path, lambda stream: torch.save(obj, stream), suffix=".pt")


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to `path` atomically (see `atomic_write`)."""
    atomic_write(path, lambda stream: stream.write(text.encode("utf-8")), suffix=".tmp")


def safe_load(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> Any:
    """Load a torch file with ``weights_only=True``: tensors and plain containers only.

    Raises:
        CheckpointError: the file is missing; it needs arbitrary unpickling, which would let it
            run code (the message names what it asked for and starts "refused to load"); or it is
            not a readable torch file (corrupted, truncated or another format).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist (or is not a file); check the path.")
    with open(path, "rb") as stream:
        is_pickle = stream.read(1) == _PICKLE_PROTOCOL_MARKER
    try:
        with warnings.catch_warnings():
            # a plain pickle of protocol > 2 makes torch ask for an issue report before refusing it
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        needs = _unsafe_content(str(error))
        if needs is None and not is_pickle:
            raise _unreadable(path, error) from error
        raise CheckpointError(
            f"refused to load {path!r}: {needs or 'it is a pickle the weights-only loader cannot read'}; "
            "unpickling it could run code from the file, so only tensors and plain containers are "
            "loaded. If you trust the file, convert it once in a separate Python session: load it with "
            "torch.load and weights_only=False, then torch.save only its tensors (e.g. its 'model' entry)."
        ) from error
    except Exception as error:  # torch raises many kinds (RuntimeError, EOFError, KeyError...) on bad bytes
        raise _unreadable(path, error) from error


_PICKLE_PROTOCOL_MARKER = b"\x80"
"""First byte of a pickle of protocol 2 or later (a legacy torch file or a plain pickle)."""


def _unsafe_content(message: str) -> str | None:
    """What torch's weights-only loader refused to build, from its message; None if it does not say."""
    match = re.search(r"Unsupported global: GLOBAL (\S+)", message)
    if match:
        return f"it holds {match.group(1)}, which is not a tensor or plain container"
    if "Can only build" in message or "Unsupported class" in message:
        return "it holds objects other than tensors and plain containers"
    return None


def _unreadable(path: str, error: BaseException) -> CheckpointError:
    return CheckpointError(
        f"{path!r} is not a readable torch checkpoint (corrupted, truncated or another format?): "
        f"{_cause(error)}"
    )


def _cause(error: BaseException) -> str:
    """The informative line of a torch loading error (torch's first lines are generic advice)."""
    for line in str(error).splitlines():
        if line.strip().startswith(("Unsupported", "invalid load key", "PytorchStreamReader")):
            return line.strip()
    text = first_line(error)
    return text if text == type(error).__name__ else f"{type(error).__name__}: {text}"


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, for error texts that quote a cause."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def content_digest(content: Any) -> str:
    """A SHA-256 digest of nested dicts, lists, tensors and scalars, independent of the tensors' device.

    torch's zip reader does not check the stored CRC-32 of the tensor data, so a flipped byte would
    load silently; checkpoints carry this digest and loading recomputes it. Dict keys are taken in
    sorted order, tensors by dtype, shape and bytes.
    """
    digest = hashlib.sha256()
    _update_digest(digest, content)
    return digest.hexdigest()


def _update_digest(digest: Any, value: Any) -> None:
    if torch.is_tensor(value):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor:{tensor.dtype}:{tuple(tensor.shape)}:".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    elif isinstance(value, dict):
        digest.update(b"dict:")
        for key in sorted(value, key=repr):
            digest.update(f"{key!r}=".encode())
            _update_digest(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}:{len(value)}:".encode())
        for item in value:
            _update_digest(digest, item)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())
