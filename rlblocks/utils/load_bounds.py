"""Bounds on what loading a file may allocate, checked from its declared sizes before reading it.

A small file can declare a large content: a zip member of zeros deflates about 1000 to 1, so a
255 KB archive can expand to 255 MB when read, and a numpy header can declare an array of any
shape. Every load path checks the declared sizes first:

- zip archives (torch files, stable-baselines3 files, ``.npz`` memories): each member's declared
  uncompressed size against its compressed size (`MAX_COMPRESSION_RATIO`, above a
  `SMALL_MEMBER_BYTES` floor that is always allowed); a stored (uncompressed) member must declare
  the size it occupies;
- ``.npy`` members of an ``.npz``: the array its header declares must fit the member's data.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

import numpy as np

from rlblocks.utils.load_errors import CheckpointError, shorten

MAX_COMPRESSION_RATIO = 100
"""Largest declared-to-compressed size ratio of a zip member over `SMALL_MEMBER_BYTES` (weights
compress about 1.1 to 1; deflate reaches about 1000 to 1 on zeros)."""

SMALL_MEMBER_BYTES = 16 * 1024 * 1024
"""A member declaring at most this many bytes is read whatever its compression ratio."""


class LoadBoundError(CheckpointError):
    """A file declares more data than its size can hold, or than a load is allowed to allocate."""


def check_torch_file(stream: BinaryIO, origin: str) -> None:
    """Check a torch file's zip members (torch's own format) before `torch.load` reads them.

    Legacy (non-zip) torch files and raw pickles pass: torch checks their storage sizes against
    the bytes present before filling them. The stream is rewound.

    Raises:
        LoadBoundError: a member declares more than its compressed size allows.
    """
    position = stream.tell()
    try:
        if zipfile.is_zipfile(stream):
            stream.seek(position)
            try:
                with zipfile.ZipFile(stream) as archive:
                    check_archive(archive, origin)
            except zipfile.BadZipFile:
                pass  # torch reports a damaged archive in its own words
    finally:
        stream.seek(position)


def check_archive(archive: zipfile.ZipFile, origin: str) -> None:
    """Check every member's declared uncompressed size against its compressed size.

    Raises:
        LoadBoundError: a member that would expand past `MAX_COMPRESSION_RATIO` (a "zip bomb"), or
            a stored member whose declared size differs from the bytes it occupies.
    """
    for info in archive.infolist():
        declared, compressed = info.file_size, info.compress_size
        if info.compress_type == zipfile.ZIP_STORED and declared != compressed:
            raise LoadBoundError(
                f"cannot load {origin!r}: its member {shorten(info.filename, 100)!r} declares {declared} "
                f"bytes but holds {compressed}; the archive is damaged. Copy it again from its source."
            )
        if declared > SMALL_MEMBER_BYTES and declared > MAX_COMPRESSION_RATIO * max(compressed, 1):
            raise LoadBoundError(
                f"refused to load {origin!r}: its member {shorten(info.filename, 100)!r} declares "
                f"{declared} bytes from {compressed} compressed (a ratio over {MAX_COMPRESSION_RATIO}:1, "
                "a 'zip bomb' or a damaged archive); reading it could exhaust memory. Files saved by "
                "torch, numpy or stable-baselines3 compress far less; copy it again from its source."
            )


def npy_header(archive: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    """The (shape, dtype) an ``.npy`` member of an ``.npz`` declares, read without its data.

    Raises:
        LoadBoundError: the header declares more bytes than the member holds, or is malformed.
    """
    info = archive.getinfo(member)
    with archive.open(info) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version not in _HEADER_READERS:
                raise ValueError(f"npy format version {version} is not supported (1.0 and 2.0 are)")
            shape, _, dtype = _HEADER_READERS[version](stream)
        except (ValueError, EOFError) as error:
            raise LoadBoundError(
                f"{member!r} has a malformed array header ({shorten(str(error), 200)})"
            ) from error
        header_bytes = stream.tell()
    nbytes = int(np.prod(shape, dtype=np.float64) * dtype.itemsize)
    if dtype.hasobject:
        return tuple(shape), dtype  # numpy refuses it (allow_pickle=False); its message says why
    if nbytes > info.file_size - header_bytes:
        raise LoadBoundError(
            f"{member!r} declares an array of shape {shorten(str(tuple(shape)), 100)} ({dtype}, {nbytes} "
            f"bytes) but holds {max(info.file_size - header_bytes, 0)} bytes of data; the file is damaged "
            "or crafted."
        )
    return tuple(shape), dtype


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
