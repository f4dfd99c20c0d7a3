"""Writing and reading checkpoint files: atomic writes, and reads that never run pickled code."""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import torch

from rlblocks.utils import load_bounds, load_errors, temporary_files
from rlblocks.utils.load_errors import CheckpointError


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], suffix: str = "") -> None:
    """Call ``write(stream)`` on a temporary file beside `path`, then rename it over `path`.

    A crash mid-write leaves the previous file intact: the rename is atomic on POSIX and Windows,
    and the data is flushed to disk first. On failure the temporary file is removed.

    Raises:
        OSError: the write failed (a full disk, a permission denied); the message names `path`
            and, for a full disk, the fix.
    """
    path = os.fspath(path)
    try:
        _atomic_write(path, write, suffix)
    except OSError as error:
        raise _naming(error, path) from error


def _naming(error: OSError, path: str) -> OSError:
    """``error`` as an OSError of the same errno whose message names ``path`` (and the fix)."""
    if error.errno is None or path in str(error):
        return error
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason += "; free some disk space (or write elsewhere) and try again"
    return OSError(error.errno, f"cannot write {path!r}: {reason}", error.filename)


def _atomic_write(path: str, write: Callable[[BinaryIO], None], suffix: str) -> None:
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
            run code (the message names what it asked for and starts "refused to load"); it
            declares more data than a file of its size can hold (see `rlblocks.utils.load_bounds`);
            or it is not a readable torch file (corrupted, truncated or another format).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist (or is not a file); check the path.")
    with open(path, "rb") as stream:
        return weights_only_load(stream, path, map_location)


def weights_only_load(
    stream: BinaryIO,
    origin: str,
    map_location: str | torch.device | None = "cpu",
    allowed_globals: Sequence[Any] = (),
    unreadable: Callable[[str, str], str] | None = None,
) -> Any:
    """``torch.load(stream, weights_only=True)``, its errors translated (the one load path of rlblocks).

    Args:
        stream: a seekable binary stream at the start of the file.
        origin: the file (or ``archive:member``) named in messages.
        map_location: as for `torch.load`.
        allowed_globals: further globals to allow (`torch.serialization.safe_globals`).
        unreadable: ``(origin, cause) -> message`` for a file that is not a torch file; the
            default says "not a readable torch checkpoint (corrupted, truncated or another format?)".

    Raises:
        CheckpointError: refused (the object named, never torch's ``weights_only=False`` advice),
            too large for its size, or unreadable.
    """
    head = load_errors.read_head(stream)
    load_bounds.check_torch_file(stream, origin)
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(list(allowed_globals)):
            # a plain pickle of protocol > 2 makes torch ask for an issue report before refusing it
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(stream, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many kinds (RuntimeError, EOFError, KeyError...) on bad bytes
        raise load_error(error, origin, head, unreadable) from error


def load_error(
    error: BaseException, origin: str, head: bytes, unreadable: Callable[[str, str], str] | None = None
) -> CheckpointError:
    """The `CheckpointError` for a failed weights-only load of a file starting with ``head``."""
    raw_pickle = not head.startswith(_ZIP_MAGIC) and load_errors.is_pickle(head)
    refused = isinstance(error, pickle.UnpicklingError) and (
        load_errors.is_refusal(error) or head[:1] == _PICKLE_PROTOCOL_MARKER
    )
    if refused and (raw_pickle or "Unsupported operand" not in str(error)):
        name = load_errors.refused_global(error, head if raw_pickle else None)
        return CheckpointError(load_errors.refusal_message(origin, name))
    cause = load_errors.cause(error)
    if not head:
        cause = "the file is empty (0 bytes)"
    elif not head.startswith(_ZIP_MAGIC) and not raw_pickle and head[:1] != _PICKLE_PROTOCOL_MARKER:
        cause = f"neither a zip archive (torch's format) nor a pickle; it starts with {head[:24]!r}"
    if unreadable is not None:
        return CheckpointError(unreadable(origin, cause))
    return CheckpointError(
        f"{origin!r} is not a readable torch checkpoint (corrupted, truncated or another format?): {cause}"
    )


_PICKLE_PROTOCOL_MARKER = b"\x80"
"""First byte of a pickle of protocol 2 or later (a legacy torch file or a plain pickle)."""

_ZIP_MAGIC = b"PK"
"""First bytes of a zip archive (torch's own file format, an SB3 file)."""


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
