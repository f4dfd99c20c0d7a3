"""`Memory`: a circular buffer of named tensors, one row per (time step, environment).

Every tensor is preallocated as (memory_size, num_envs, size) (or (memory_size, num_envs, *shape)
with `keep_dimensions=True`); `tensors_view` holds the flat (memory_size * num_envs, ...) views,
time-major: row `t * num_envs + e`. `add_samples` writes at the head (`memory_index`, `env_index`)
and wraps to the start once `memory_index` reaches `memory_size`, setting `filled`. Subclasses
implement `sample`; `sample_all` and `sample_by_index` serve on-policy agents and recurrent models.

Storage: the flat tensors of one dtype are column blocks of one 2-D tensor (see `storage.py`), so a
random batch of every tensor is one gather. The views in `tensors`/`tensors_view` alias it but are
not contiguous; every tensor a sampling method returns is contiguous (and must not be written to).

Differs from skrl 0.10 (see docs/differences.md, "Memories"): export format "npz" is accepted
("np" is its alias); re-creating a `keep_dimensions` tensor works; creating a tensor leaves the
others' data alone; `load` updates the tensors sampling reads and restores the buffer position;
the num_envs=1 multi-sample wrap sets `filled`; `sample_all` and `sample_by_index` return exactly
`mini_batches` batches and accept tensor indexes; `save` is atomic and `load` runs no pickled code.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from rlblocks import logger
from rlblocks.memories.torch import files
from rlblocks.memories.torch.indexes import env_major_order, split_sizes
from rlblocks.memories.torch.storage import ColumnStorage
from rlblocks.utils import spaces
from rlblocks.utils.images import is_image_space
from rlblocks.utils.suggest import did_you_mean

Batches = list[list[torch.Tensor]]
"""What sampling returns: a list of mini-batches, each a list of tensors in the order of `names`."""


class Memory:
    """Base class of memories: storage, writing, and the sampling every memory shares.

    Attributes:
        memory_size: time steps kept per environment.
        num_envs: environments written per time step.
        device: where the tensors live.
        filled: True once the buffer has wrapped at least once (every row holds data).
        memory_index: the time step the next sample goes to.
        env_index: the environment the next sample goes to (0 unless samples arrive per env).
        tensors: name -> (memory_size, num_envs, *shape) view.
        tensors_view: name -> (memory_size * num_envs, *shape) view, time-major.
        tensors_keep_dimensions: name -> whether the tensor keeps its shape.
        sampling_indexes: the flat rows of the last `sample` (see `get_sampling_indexes`).
        export, export_format, export_directory: whether and how the memory is saved each time
            it fills up.
    """

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: str | torch.device | None = None,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
    ) -> None:
        """Create an empty memory; declare its tensors with `create_tensor`.

        Args:
            memory_size: time steps kept per environment (>= 1).
            num_envs: environments written per time step (>= 1).
            device: "cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu".
            export: save the memory (see `save`) each time it fills up.
            export_format: "pt", "npz" ("np" is an alias) or "csv".
            export_directory: where exports go (under a "memories" folder); "" is the working directory.

        Raises:
            ValueError: a size is not a positive integer, or the export format is unknown.
        """
        for label, value in (("memory_size", memory_size), ("num_envs", num_envs)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        self.memory_size = int(memory_size)
        self.num_envs = int(num_envs)
        if device is None:
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)

        self.filled = False
        self.env_index = 0
        self.memory_index = 0

        self.tensors: dict[str, torch.Tensor] = {}
        self.tensors_view: dict[str, torch.Tensor] = {}
        self.tensors_keep_dimensions: dict[str, bool] = {}
        self.sampling_indexes: torch.Tensor | None = None

        self.export = export
        self.export_format = files.normalise_format(export_format)
        self.export_directory = export_directory

        self._storage = ColumnStorage(self.memory_size * self.num_envs, self.device)
        self._sample_shapes: dict[str, tuple[int, ...]] = {}  # name -> per-row shape
        self._image_shapes: dict[str, tuple[int, ...]] = {}  # name -> image space shape (see add_samples)
        self._row_shapes: dict[str, torch.Size] = {}  # name -> (num_envs, *per-row shape)
        self._all_sequence_indexes: torch.Tensor | None = None
        self._warned_about_sequences = False

    def __len__(self) -> int:
        """Rows holding data: memory_size * num_envs once filled, else memory_index * num_envs + env_index."""
        if self.filled:
            return self.memory_size * self.num_envs
        return self.memory_index * self.num_envs + self.env_index

    @property
    def all_sequence_indexes(self) -> torch.Tensor:
        """Every row, environment-major (env 0's time steps, then env 1's, ...); (memory_size * num_envs,)."""
        if self._all_sequence_indexes is None:
            self._all_sequence_indexes = env_major_order(self.memory_size, self.num_envs, self.device)
        return self._all_sequence_indexes

    # -- declaring tensors -------------------------------------------------------------------

    def create_tensor(
        self,
        name: str,
        size: spaces.SpaceLike,
        dtype: torch.dtype | None = None,
        keep_dimensions: bool = False,
    ) -> bool:
        """Declare a tensor; a re-declaration with the same size and dtype is accepted and ignored.

        Args:
            name: the tensor's name, used by `add_samples` and the sampling methods.
            size: an int, a shape, or a space (a flat row holds `flat_size(space)` values: one
                per Discrete).
            dtype: the tensor's dtype; None follows the space for a new tensor (uint8 for an
                image space, a uint8 Box of 2 or 3 dimensions, see `rlblocks.utils.images`; torch's
                default, float32, otherwise) and is "any" when re-declaring.
            keep_dimensions: store (memory_size, num_envs, *shape) instead of flattening the
                shape, e.g. RNN states (num_layers, hidden_size).

        Returns:
            True if the tensor was created, False if it already existed.

        Raises:
            ValueError: the name exists with another size or dtype, or `size` is not valid.
        """
        shape = _per_row_shape(name, size, keep_dimensions)
        if name in self.tensors:
            existing = self.tensors[name]
            if tuple(existing.shape[2:]) != shape:
                raise ValueError(
                    f'The size of the tensor "{name}" {shape} doesn\'t match the existing one '
                    f"{tuple(existing.shape[2:])}; use another name or the same size."
                )
            if dtype is not None and existing.dtype != dtype:
                raise ValueError(
                    f'The dtype of the tensor "{name}" ({dtype}) doesn\'t match the existing one '
                    f"({existing.dtype}); use another name or the same dtype."
                )
            return False
        if not isinstance(name, str) or not name or name == files.INDEXES_KEY:
            raise ValueError(
                f"tensor names must be non-empty strings other than {files.INDEXES_KEY!r}; got {name!r}"
            )
        if dtype is None:
            dtype = torch.uint8 if is_image_space(size) else torch.get_default_dtype()
        self._storage.add(name, shape, dtype)
        self.tensors_keep_dimensions[name] = keep_dimensions
        self._sample_shapes[name] = shape
        if is_image_space(size):
            self._image_shapes[name] = tuple(int(item) for item in size.shape)
        self._row_shapes[name] = torch.Size((self.num_envs, *shape))
        self._bind_views()
        return True

    def _bind_views(self) -> None:
        """Point `tensors`, `tensors_view` and the `_tensor_<name>` attributes at the storage."""
        for name in self._sample_shapes:
            flat = self._storage.view(name)
            self.tensors_view[name] = flat
            self.tensors[name] = flat.view(self.memory_size, self.num_envs, *flat.shape[1:])
            setattr(self, f"_tensor_{name}", self.tensors[name])

    def get_tensor_names(self) -> list[str]:
        """The tensor names, sorted."""
        return sorted(self.tensors)

    def get_tensor_by_name(self, name: str, keepdim: bool = True) -> torch.Tensor:
        """The (memory_size, num_envs, ...) view of a tensor, or its flat view with `keepdim=False`.

        Raises:
            KeyError: no tensor has that name.
        """
        self._check_name(name)
        return self.tensors[name] if keepdim else self.tensors_view[name]

    def set_tensor_by_name(self, name: str, tensor: torch.Tensor) -> None:
        """Overwrite a whole tensor in place with `tensor` (same shape, or broadcastable to it).

        Raises:
            KeyError: no tensor has that name.
        """
        self._check_name(name)
        with torch.no_grad():
            self.tensors[name].copy_(tensor)

    def _check_name(self, name: str) -> None:
        if name not in self.tensors:
            raise KeyError(
                f'no tensor named "{name}" in memory{did_you_mean(name, self.tensors)}; '
                f"existing: {self.get_tensor_names()}. Create it with memory.create_tensor()."
            )

    # -- writing -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget what was written: indexes to 0 and `filled` to False (the data stays until overwritten)."""
        self.filled = False
        self.env_index = 0
        self.memory_index = 0

    def add_samples(self, **tensors: torch.Tensor) -> None:
        """Write samples at the head of the buffer and advance it.

        The shape of "states" (else of the first tensor) tells how many samples arrive; with
        `shape` the per-row shape of that tensor:

        - (num_envs, *shape): one time step of every environment; `memory_index += 1`.
        - (n < num_envs, *shape): environments env_index..env_index+n-1; `env_index += n`.
        - (n > 1, *shape) with num_envs == 1: n consecutive time steps, wrapping around.
        - (*shape): one environment's sample; `env_index += 1`.

        A flat tensor also accepts samples in their space's shape, e.g. (num_envs, 4, 84, 84)
        image observations for rows of 4·84·84 values.

        When env_index reaches num_envs it returns to 0 and memory_index advances; when
        memory_index reaches memory_size it returns to 0, `filled` becomes True and, with
        `export`, the memory is saved. Names the memory lacks are skipped; a tensor whose number
        of elements matches is reshaped (e.g. (num_envs,) rewards into (num_envs, 1)).

        Raises:
            ValueError: no samples, or a tensor of the wrong shape.
        """
        if not tensors:
            raise ValueError(
                "No samples to be recorded in memory. Pass samples as key-value arguments (where key "
                "is the tensor name), e.g. memory.add_samples(states=states, actions=actions)."
            )
        reference_name = "states" if "states" in tensors else next(iter(tensors))
        reference = tensors[reference_name]
        batch_ndim = _batch_ndim(
            reference, self._sample_shapes.get(reference_name, (0,)), self._image_shapes.get(reference_name)
        )
        count = reference.shape[0] if batch_ndim == 1 else 0

        if batch_ndim == 1 and count == self.num_envs:
            self._write_time_step(tensors)
            self.memory_index += 1
        elif batch_ndim == 1 and count < self.num_envs:
            if self.env_index + count > self.num_envs:
                raise ValueError(
                    f"add_samples got {count} environments' samples at env_index {self.env_index}, past "
                    f"num_envs={self.num_envs}; complete the time step with {self.num_envs - self.env_index}."
                )
            shapes = {name: (count, *shape) for name, shape in self._sample_shapes.items()}
            self._write(
                tensors, tensors, (self.memory_index, slice(self.env_index, self.env_index + count)), shapes
            )
            self.env_index += count
        elif batch_ndim == 1 and self.num_envs == 1:
            self._write_time_steps(tensors, count)
        elif batch_ndim == 0:
            self._write(tensors, tensors, (self.memory_index, self.env_index), self._sample_shapes)
            self.env_index += 1
        else:
            shape = self._sample_shapes.get(reference_name, ("size",))
            raise ValueError(
                f'Expected "{reference_name}" of shape (num_envs, *sample_shape) = ({self.num_envs}, '
                f"{', '.join(map(str, shape))}), (n < num_envs, ...) or one sample {shape}; got "
                f"{tuple(reference.shape)}. Is the batch dimension missing or extra?"
            )

        if self.env_index >= self.num_envs:
            self.env_index = 0
            self.memory_index += 1
        if self.memory_index >= self.memory_size:
            self.memory_index = 0
            self._on_filled()

    def _write_time_step(self, tensors: dict[str, torch.Tensor]) -> None:
        """Write one sample per environment at `memory_index`: one `cat` per group the names fill."""
        covered, rest = self._storage.covered_groups(tuple(tensors))
        first_row = self.memory_index * self.num_envs
        for names, group in covered:
            parts = [tensors[name] for name in names]
            if self._fit_row(names, parts):
                try:
                    torch.cat(parts, dim=1, out=group[first_row : first_row + self.num_envs])
                    continue
                except (RuntimeError, TypeError):  # another device, or a dtype cat cannot cast
                    pass
            rest = [*rest, *names]
        self._write(tensors, rest, self.memory_index, self._row_shapes)

    def _fit_row(self, names: list[str], parts: list[torch.Tensor]) -> bool:
        """Whether every part is exactly (num_envs, size) and free of autograd, as `cat` needs."""
        row_shapes = self._row_shapes
        for name, part in zip(names, parts):
            if part.shape != row_shapes[name] or part.requires_grad:
                return False
        return True

    def _write(
        self,
        tensors: dict[str, torch.Tensor],
        names: Iterable[str],
        index: Any,
        shapes: dict[str, Sequence[int]],
    ) -> None:
        """Copy `tensors[name]` into `self.tensors[name][index]` for each of `names` found in `shapes`.

        `shapes` maps a name to the shape its tensor should have; others are skipped. Kept cheap:
        it runs at every environment step.
        """
        for name in names:
            expected = shapes.get(name)
            if expected is None:
                continue
            tensor = tensors[name]
            if tensor.shape != expected:
                tensor = _conform(name, tensor, expected)
            if tensor.requires_grad:  # a graph must not reach into the buffer
                tensor = tensor.detach()
            self.tensors[name][index] = tensor

    def _write_time_steps(self, tensors: dict[str, torch.Tensor], count: int) -> None:
        """num_envs == 1: write `count` consecutive time steps from `memory_index`, wrapping around."""
        skipped = max(0, count - self.memory_size)  # overwritten within this call anyway
        start = (self.memory_index + skipped) % self.memory_size
        kept = count - skipped
        first = min(kept, self.memory_size - start)
        for name, tensor in tensors.items():
            storage = self.tensors.get(name)
            if storage is None:
                continue
            expected = (count, *self._sample_shapes[name])
            if tensor.shape != expected:
                tensor = _conform(name, tensor, expected)
            if tensor.requires_grad:
                tensor = tensor.detach()
            tensor = tensor[skipped:].unsqueeze(1)
            storage[start : start + first].copy_(tensor[:first])
            storage[: kept - first].copy_(tensor[first:])
        wrapped = self.memory_index + count >= self.memory_size
        self.memory_index = (self.memory_index + count) % self.memory_size
        if wrapped:
            self._on_filled()

    def _on_filled(self) -> None:
        self.filled = True
        if self.export:
            self.save(directory=self.export_directory, format=self.export_format)

    def share_memory(self) -> None:
        """Move the CPU tensors to shared memory (for multi-process trainers); views stay valid."""
        self._storage.share_memory()

    # -- sampling ----------------------------------------------------------------------------

    def sample(
        self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1
    ) -> Batches:
        """Sample a batch; implemented by subclasses (see `RandomMemory`).

        Raises:
            NotImplementedError: always, in the base class.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.sample is not implemented; use RandomMemory or override sample()."
        )

    def sample_by_index(
        self,
        names: Sequence[str],
        indexes: torch.Tensor | np.ndarray | Sequence[int],
        mini_batches: int = 1,
        sequence_length: int = 1,
    ) -> Batches:
        """The rows `indexes` of the flat views of `names`, split into `mini_batches` batches.

        Args:
            names: tensor names; each batch lists their tensors in this order.
            indexes: 1-D rows of the flat views (tensor, array or sequence of ints).
            mini_batches: the number of consecutive batches; the last ones are one row (or one
                sequence) larger when the rows do not divide evenly.
            sequence_length: split in whole runs of this many rows (an rlblocks extension, so that
                `sample_by_index(names, get_sampling_indexes(), k, L)` matches `sample(..., k, L)`).

        Returns:
            `mini_batches` lists of contiguous (rows, *shape) tensors.

        Raises:
            KeyError: an unknown name.
            ValueError: `indexes` is not 1-D, or there are fewer rows (sequences) than batches.
        """
        rows = self._as_rows(indexes)
        if mini_batches == 1:
            return [self._storage.gather(names, rows)]
        sizes = split_sizes(rows.numel(), mini_batches, sequence_length)
        gathered = [tensor.split(sizes) for tensor in self._storage.gather(names, rows)]
        return [list(batch) for batch in zip(*gathered)]

    def sample_all(self, names: Sequence[str], mini_batches: int = 1, sequence_length: int = 1) -> Batches:
        """Every row of the memory, in `mini_batches` consecutive batches (not shuffled).

        With `sequence_length > 1` rows come environment-major (`all_sequence_indexes`), so each
        batch holds whole runs of `sequence_length` consecutive steps of one environment, provided
        memory_size is a multiple of sequence_length (a warning says when it is not).

        Returns:
            exactly `mini_batches` lists of contiguous tensors; when the rows (sequences) do not
            divide evenly, the last batches are one row (sequence) larger.

        Raises:
            KeyError: an unknown name.
            ValueError: fewer rows (sequences) than batches, or rows not forming whole sequences.
        """
        total = self.memory_size * self.num_envs
        if sequence_length > 1:
            if self.memory_size % sequence_length and not self._warned_about_sequences:
                self._warned_about_sequences = True
                logger.warning(
                    f"memory_size ({self.memory_size}) is not a multiple of sequence_length "
                    f"({sequence_length}): some sequences run from one environment into the next."
                )
            return self.sample_by_index(names, self.all_sequence_indexes, mini_batches, sequence_length)
        for name in names:
            self._check_name(name)
        if mini_batches == 1:
            return [[self.tensors_view[name].contiguous() for name in names]]
        batches, start = [], 0
        for size in split_sizes(total, mini_batches):
            batches.append([self.tensors_view[name][start : start + size].contiguous() for name in names])
            start += size
        return batches

    def get_sampling_indexes(self) -> torch.Tensor | None:
        """The flat rows of the last `sample` call, in the order they were returned."""
        return self.sampling_indexes

    def _as_rows(self, indexes: torch.Tensor | np.ndarray | Sequence[int]) -> torch.Tensor:
        """`indexes` as a 1-D long tensor on the memory's device."""
        if not torch.is_tensor(indexes):
            indexes = torch.as_tensor(np.asarray(indexes, dtype=np.int64))
        if indexes.ndim != 1:
            raise ValueError(
                f"indexes should be 1-D rows of the flat views, got shape {tuple(indexes.shape)}; "
                "flatten them with .reshape(-1)."
            )
        return indexes.to(device=self.device, dtype=torch.long)

    # -- files -------------------------------------------------------------------------------

    def save(self, directory: str = "", format: str = "pt") -> str:
        """Write the memory to `<directory>/memories/<timestamp>_memory_<id>.<format>`, atomically.

        Args:
            directory: the parent folder; "" uses `export_directory`.
            format: "pt", "npz" ("np" is an alias) or "csv" (export only: see `files.py`).

        Returns:
            the path of the file written.

        Raises:
            ValueError: an unknown format.
        """
        format = files.normalise_format(format)
        path = files.memory_file_path(directory or self.export_directory, id(self), format)
        indexes = (self.memory_index, self.env_index, int(self.filled))
        ordered = {name: self.tensors[name] for name in self.get_tensor_names()}
        files.write_memory_file(path, format, ordered, indexes, len(self))
        return path

    def load(self, path: str) -> None:
        """Read a memory saved as .pt or .npz into this one, including where the head was.

        Tensors of the file the memory lacks are created; a file without the buffer position
        (e.g. a skrl export, written when the memory filled up) loads as a filled memory.

        Raises:
            ValueError: an unsupported extension, or tensors of another memory_size/num_envs.
            CheckpointError: the file is missing, corrupted or holds pickled objects.
        """
        tensors, indexes = files.read_memory_file(os.fspath(path), self.device)
        for name, tensor in tensors.items():
            if tuple(tensor.shape[:2]) != (self.memory_size, self.num_envs):
                raise ValueError(
                    f'{path!r}: "{name}" is {tuple(tensor.shape)}, but this memory holds (memory_size, '
                    f"num_envs) = ({self.memory_size}, {self.num_envs}); create the memory with "
                    f"memory_size={tensor.shape[0]}, num_envs={tensor.shape[1] if tensor.ndim > 1 else 1}."
                )
            if name not in self.tensors:
                self.create_tensor(name, tuple(tensor.shape[2:]), tensor.dtype, tensor.ndim > 3)
            elif tensor[0, 0].numel() != self.tensors[name][0, 0].numel():
                raise ValueError(
                    f'{path!r}: "{name}" holds samples of shape {tuple(tensor.shape[2:])}, but this memory '
                    f"declares {tuple(self.tensors[name].shape[2:])}; load it into a memory declared alike."
                )
        for name, tensor in tensors.items():
            self.set_tensor_by_name(name, tensor.reshape(self.tensors[name].shape))
        missing = sorted(set(self.tensors) - set(tensors))
        if missing:
            logger.warning(f"{path!r} has no data for {missing}; those tensors keep their contents.")
        self.memory_index, self.env_index, self.filled = indexes if indexes is not None else (0, 0, True)


def _per_row_shape(name: str, size: spaces.SpaceLike, keep_dimensions: bool) -> tuple[int, ...]:
    """The per-row shape of a tensor: (flat_size,) or, with keep_dimensions, the space's shape."""
    kind = spaces.space_kind(size)
    if not keep_dimensions:
        shape: tuple[int, ...] = (spaces.flat_size(size),)
    elif kind == "int":
        shape = (int(size),)
    elif kind == "shape":
        shape = tuple(int(item) for item in size)
    elif kind in ("box", "multi_binary"):
        shape = tuple(int(item) for item in size.shape)
    elif kind == "discrete":
        shape = (1,)
    elif kind == "multi_discrete":
        shape = tuple(int(item) for item in size.nvec.shape)
    else:
        raise ValueError(
            f'keep_dimensions=True cannot be used with Dict or Tuple spaces (tensor "{name}": {size}); '
            "pass keep_dimensions=False to store the flat row."
        )
    if not shape or min(shape) < 1:
        raise ValueError(f'the size of tensor "{name}" must be positive, got {size!r} (shape {shape})')
    return shape


def _batch_ndim(
    reference: torch.Tensor, sample_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> int:
    """The number of leading batch dimensions of ``reference``, whose samples have ``sample_shape``.

    A tensor declared from an image space also takes samples in the space's shape
    (``image_shape``): (N, C, H, W) has one batch dimension for rows of C·H·W values.
    """
    if image_shape is not None and tuple(reference.shape[1:]) == image_shape:
        return 1
    return reference.ndim - len(sample_shape)


def _conform(name: str, tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """`tensor` reshaped to `shape` when it has as many elements; a 0-d tensor broadcasts."""
    if tensor.ndim == 0 or tensor.numel() == math.prod(shape):
        return tensor if tensor.ndim == 0 else tensor.reshape(shape)
    raise ValueError(
        f'"{name}" should be {tuple(shape)} for this add_samples call, got {tuple(tensor.shape)}; '
        "check its batch (environment) dimension and its size in create_tensor."
    )
