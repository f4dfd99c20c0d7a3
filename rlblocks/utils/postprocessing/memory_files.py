"""`MemoryFileIterator`: iterate over the memory files rlblocks exports ("pt", "npz", "csv").

Iteration follows skrl 0.10: the files matching a glob pattern, in sorted order, each yielded as
`(file name, data)` (the base name, not the path):

- ".pt": a dict of torch tensors, name -> (memory_size, num_envs, *shape), read with weights-only
  semantics (`rlblocks.memories.torch.files.read_memory_file`);
- ".npz": the same as numpy arrays (read without unpickling);
- ".csv": a dict name -> list of rows, one row of floats (or bools) per valid memory row
  (memory_size * num_envs rows at most), from the `name.i` header columns.

rlblocks' own buffer position entry (`__memory_indexes__`) is left out of the data.

Differs from skrl 0.10: csv cells "False" read as False (skrl's `bool("False")` is True); the
columns of a name are found by their prefix wherever they sit (skrl assumes the header is sorted);
a header that is not `name.i` columns raises a ValueError instead of yielding an empty dict.
"""

from __future__ import annotations

import csv
import glob
import os
from typing import Any

import torch

from rlblocks.memories.torch.files import read_memory_file


class MemoryFileIterator:
    """Iterates `(file name, data)` over the memory files matching `pathname` (see the module docstring).

    Args:
        pathname: a glob pattern, e.g. "runs/exp/memories/*.pt".
    """

    def __init__(self, pathname: str) -> None:
        self.n = 0
        self.file_paths = sorted(glob.glob(pathname))

    def __iter__(self) -> MemoryFileIterator:
        return self

    def __next__(self) -> tuple[str, dict[str, Any]]:
        """The next file's base name and data.

        Raises:
            StopIteration: no file left.
            ValueError: a file that is not .pt, .npz or .csv, or a csv without `name.i` columns.
        """
        if self.n >= len(self.file_paths):
            raise StopIteration
        path = self.file_paths[self.n]
        self.n += 1
        return os.path.basename(path), read_exported_memory(path)


def read_exported_memory(path: str) -> dict[str, Any]:
    """The data of one memory file (see the module docstring).

    Raises:
        ValueError: an unsupported extension or a csv header that is not `name.i` columns.
    """
    if path.endswith(".pt"):
        return read_memory_file(path, torch.device("cpu"))[0]
    if path.endswith(".npz"):
        return {
            name: tensor.numpy() for name, tensor in read_memory_file(path, torch.device("cpu"))[0].items()
        }
    if path.endswith(".csv"):
        return _read_csv(path)
    raise ValueError(f"Unsupported format for file: {path!r}; memory files end in .pt, .npz or .csv.")


def _read_csv(path: str) -> dict[str, list[list[float | bool]]]:
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, [])
        names = [column.rpartition(".")[0] for column in header]
        if not header or any(
            not name or not column.rpartition(".")[2].isdigit() for name, column in zip(names, header)
        ):
            raise ValueError(
                f"{path!r} is not a memory csv file: its header {header[:4]}... should be `name.i` columns "
                "(as Memory.save(format='csv') writes them)."
            )
        data: dict[str, list[list[float | bool]]] = {name: [] for name in names}
        for row in reader:
            parts: dict[str, list[float | bool]] = {name: [] for name in data}
            for name, cell in zip(names, row):
                parts[name].append(_cell(cell))
            for name, values in parts.items():
                data[name].append(values)
    return data


def _cell(cell: str) -> float | bool:
    if cell in ("True", "False"):
        return cell == "True"
    return float(cell)
