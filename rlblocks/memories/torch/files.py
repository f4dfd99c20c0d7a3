"""Memory files: export formats ("pt", "npz", "csv"), atomic writes and safe reads.

A "pt" or "npz" file maps each tensor name to its (memory_size, num_envs, *shape) array; rlblocks
adds the circular-buffer position under `INDEXES_KEY` as [memory_index, env_index, filled], so a
loaded memory samples exactly the rows that were valid when it was saved. A "csv" file is an
export for other tools: a header of `name.i` columns, then one line per valid row (flat views,
time-major); it cannot be loaded back.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from typing import IO

import numpy as np
import torch

from rlblocks.utils import load_bounds, load_errors
from rlblocks.utils.checkpoint import CheckpointError, atomic_save, atomic_write, safe_load
from rlblocks.utils.load_errors import shorten
from rlblocks.utils.suggest import did_you_mean

EXPORT_FORMATS = ("pt", "npz", "csv")
"""File formats a memory can be saved in."""

FORMAT_ALIASES = {"np": "npz"}
"""Other accepted spellings: skrl 0.10's constructor documented "np"."""

INDEXES_KEY = "__memory_indexes__"
"""Key of the [memory_index, env_index, filled] entry; create_tensor refuses it as a name."""


def normalise_format(format: str) -> str:
    """The canonical name of an export format ("np" -> "npz").

    Raises:
        ValueError: the format is not one of `EXPORT_FORMATS` or an alias.
    """
    canonical = FORMAT_ALIASES.get(format, format)
    if canonical not in EXPORT_FORMATS:
        raise ValueError(
            f"Export format not supported ({format!r}){did_you_mean(format, EXPORT_FORMATS)}; "
            'accepted: "pt", "npz" (alias "np"), "csv".'
        )
    return canonical


def memory_file_path(directory: str, owner_id: int, format: str) -> str:
    """`<directory>/memories/<timestamp>_memory_<hex id>.<format>`."""
    stamp = datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f")
    return os.path.join(directory, "memories", f"{stamp}_memory_{hex(owner_id)}.{format}")


def write_memory_file(
    path: str,
    format: str,
    tensors: Mapping[str, torch.Tensor],
    indexes: Sequence[int],
    num_valid_rows: int,
) -> None:
    """Write `tensors` (name -> (memory_size, num_envs, *shape)) atomically to `path` in `format`.

    Args:
        path: the destination; written under a temporary name, then renamed.
        format: a canonical format (see `normalise_format`).
        tensors: the tensors, in the order columns appear in a csv file.
        indexes: [memory_index, env_index, filled] (stored by "pt" and "npz").
        num_valid_rows: rows of the flat views a csv file holds (`len(memory)`).
    """
    if format == "pt":
        entries = {name: tensor.detach() for name, tensor in tensors.items()}
        entries[INDEXES_KEY] = torch.tensor(list(indexes), dtype=torch.long)
        atomic_save(entries, path)
    elif format == "npz":
        arrays = {name: tensor.detach().cpu().numpy() for name, tensor in tensors.items()}
        arrays[INDEXES_KEY] = np.asarray(indexes, dtype=np.int64)
        atomic_write(path, lambda stream: np.savez(stream, **arrays))
    else:
        atomic_write(path, lambda stream: _write_csv(stream, tensors, num_valid_rows))


def read_memory_file(
    path: str, device: torch.device
) -> tuple[dict[str, torch.Tensor], tuple[int, int, bool] | None]:
    """The tensors of a "pt" or "npz" memory file and its [memory_index, env_index, filled], if any.

    Raises:
        ValueError: the extension is not .pt or .npz (csv files are export-only).
        CheckpointError: the file is missing, corrupted, holds something else than arrays, or
            declares more data than it holds (checked before anything is allocated).
    """
    if path.endswith(".pt"):
        data = safe_load(path, map_location=device)
        if not isinstance(data, Mapping):
            raise CheckpointError(f"{path!r} holds a {type(data).__name__}, not a memory (dict of tensors).")
        tensors = {str(name): _stored_tensor(path, str(name), value) for name, value in data.items()}
    elif path.endswith(".npz"):
        if not os.path.isfile(path):
            raise CheckpointError(f"memory file {path!r} does not exist (or is not a file); check the path.")
        tensors = {name: torch.from_numpy(array).to(device) for name, array in _read_npz(path).items()}
    elif path.endswith(".csv"):
        raise ValueError(
            f"cannot load {path!r}: csv is an export-only format (dtypes and the buffer position are "
            "lost); save the memory with format='pt' or 'npz' to load it back."
        )
    else:
        raise ValueError(f"Unsupported format: {path!r}; memory files end in .pt or .npz.")
    indexes = tensors.pop(INDEXES_KEY, None)
    if indexes is None:
        return tensors, None
    memory_index, env_index, filled = (int(value) for value in indexes.tolist())
    return tensors, (memory_index, env_index, bool(filled))


def _stored_tensor(path: str, name: str, value: object) -> torch.Tensor:
    """A tensor of a "pt" memory file, refused if it is not one or declares more than it stores.

    An expanded view (stride 0) of a one-element storage can declare any shape; building a
    memory tensor of that shape would allocate it, so only tensors backed by their own data load.
    """
    if not torch.is_tensor(value):
        raise CheckpointError(
            f"{path!r}: entry {shorten(name, 100)!r} is a {type(value).__name__}, not a tensor; memory files "
            "map tensor names to (memory_size, num_envs, ...) tensors."
        )
    declared = value.numel() * value.element_size()
    if declared > value.untyped_storage().nbytes():
        raise CheckpointError(
            f"{path!r}: tensor {shorten(name, 100)!r} declares shape {tuple(value.shape)} ({declared} "
            f"bytes) but stores {value.untyped_storage().nbytes()} bytes (an expanded or overlapping "
            "view); loading it would allocate memory the file does not hold. Save it with Memory.save."
        )
    return value


def _read_npz(path: str) -> dict[str, np.ndarray]:
    """The arrays of an "npz" memory file, their declared sizes checked before any is read.

    Raises:
        CheckpointError: a damaged archive, an array header declaring more data than the file
            holds, a member that would expand past `load_bounds.MAX_COMPRESSION_RATIO`, or an
            object array (pickled objects).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            load_bounds.check_archive(archive, path)
            for member in archive.namelist():
                if member.endswith(".npy"):
                    try:
                        load_bounds.npy_header(archive, member)
                    except CheckpointError as error:
                        raise CheckpointError(f"cannot load memory file {path!r}: {error}") from None
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except CheckpointError:
        raise
    except ValueError as error:  # numpy's answer to object arrays with allow_pickle=False
        if "allow_pickle" not in str(error):
            raise _damaged_npz(path, error) from error
        raise CheckpointError(
            f"refused to load {path!r}: it holds an array of Python objects, which numpy would unpickle "
            "(and unpickling could run code from the file); memory files hold numeric arrays only."
        ) from error
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, KeyError) as error:
        raise _damaged_npz(path, error) from error
    return arrays


def _damaged_npz(path: str, error: BaseException) -> CheckpointError:
    return CheckpointError(
        f"{path!r} is not a readable .npz memory file (corrupted, truncated or another format?): "
        f"{load_errors.cause(error)}"
    )


def _write_csv(stream: IO[bytes], tensors: Mapping[str, torch.Tensor], num_valid_rows: int) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    writer = csv.writer(text)
    flat = {name: tensor.reshape(-1, int(np.prod(tensor.shape[2:]))) for name, tensor in tensors.items()}
    writer.writerow([f"{name}.{i}" for name, rows in flat.items() for i in range(rows.shape[1])])
    columns = [rows[:num_valid_rows].tolist() for rows in flat.values()]
    for parts in zip(*columns):
        writer.writerow([value for part in parts for value in part])
    text.flush()
    text.detach()
