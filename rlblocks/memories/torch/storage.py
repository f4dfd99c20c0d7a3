"""`ColumnStorage`: named per-row tensors packed side by side, one 2-D tensor per dtype.

A replay buffer samples a few hundred random rows of every tensor (states, actions, rewards, ...)
at each gradient step. For a large buffer the cost of a gather is the random memory accesses, one
per row and tensor. Keeping every flat tensor of one dtype as a column block of a single
(num_rows, width) tensor makes a row one transition, so one `index_select` fetches all of them:
one random access per row instead of one per row and name.

Layout: flat tensors (per-row shape `(size,)`) of one dtype share a group; a multi-dimensional
tensor (per-row shape `(d0, d1, ...)`, e.g. RNN states) gets a group of its own, so that sampling
the flat tensors never drags it along.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import torch

from rlblocks.utils.suggest import did_you_mean


class _Column(NamedTuple):
    group: Hashable
    start: int
    stop: int
    view_shape: tuple[int, ...]
    """(-1, *per_row_shape): the shape a gathered block of this column is viewed as."""


class _Step(NamedTuple):
    source: torch.Tensor
    """The tensor rows are gathered from: a whole group, or one column block of it."""
    widths: list[int] | None
    """How to split the gathered block into column blocks; None: the block is one output."""
    pieces: list[tuple[int, int, tuple[int, ...] | None]]
    """(output position, column block, view shape or None when flat) for each requested name."""


class ColumnStorage:
    """Named tensors of shape (num_rows, *per_row_shape), stored as column blocks.

    Adding a name reallocates its group (the old contents are copied), so views obtained before
    `add` no longer alias the storage; create every tensor before writing data.
    """

    def __init__(self, num_rows: int, device: torch.device) -> None:
        self.num_rows = num_rows
        self.device = device
        self._groups: dict[Hashable, torch.Tensor] = {}
        self._columns: dict[str, _Column] = {}
        self._plans: dict[tuple[str, ...], list[_Step]] = {}
        self._write_plans: dict[tuple[str, ...], tuple[list[tuple[list[str], torch.Tensor]], list[str]]] = {}
        self._is_shared = False

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def add(self, name: str, shape: tuple[int, ...], dtype: torch.dtype) -> None:
        """Add a tensor of per-row `shape`, filled with NaN (floating dtypes) or 0 (others)."""
        width = math.prod(shape)
        key: Hashable = dtype if len(shape) == 1 else ("own", name)
        old = self._groups.get(key)
        start = 0 if old is None else old.shape[1]
        group = torch.empty((self.num_rows, start + width), dtype=dtype, device=self.device)
        if old is not None:
            group[:, :start].copy_(old)
        group[:, start:].fill_(float("nan") if dtype.is_floating_point else 0)
        if self._is_shared and group.device.type == "cpu":
            group.share_memory_()
        self._groups[key] = group
        self._columns[name] = _Column(key, start, start + width, (-1, *shape))
        self._plans.clear()
        self._write_plans.clear()

    def view(self, name: str) -> torch.Tensor:
        """The (num_rows, *per_row_shape) view of `name` (not contiguous when its group is shared)."""
        column = self._columns[name]
        return self._groups[column.group][:, column.start : column.stop].view(column.view_shape)

    def gather(self, names: Sequence[str], indexes: torch.Tensor) -> list[torch.Tensor]:
        """Rows `indexes` (1-D, long) of each name, in `names` order, as contiguous (len(indexes), ...)."""
        key = names if type(names) is tuple else tuple(names)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(key)
        outputs: list[torch.Tensor] = [None] * len(key)  # type: ignore[list-item]  # every slot is filled below
        for source, widths, pieces in plan:
            block = source.index_select(0, indexes)
            if widths is None:
                outputs[pieces[0][0]] = block.view(pieces[0][2])
                continue
            parts = block.split(widths, 1)
            for position, part, view_shape in pieces:
                piece = parts[part].contiguous()
                outputs[position] = piece if view_shape is None else piece.view(view_shape)
        return outputs

    def covered_groups(
        self, names: tuple[str, ...]
    ) -> tuple[list[tuple[list[str], torch.Tensor]], list[str]]:
        """Split `names` into the multi-column groups they fill entirely, and the other known names.

        A time step whose tensors fill a group is written with one `torch.cat(..., out=rows)`
        instead of one copy per name.

        Returns:
            ([(the group's names in column order, the group tensor), ...], [other names of `names`
            the storage holds, in `names` order]).
        """
        plan = self._write_plans.get(names)
        if plan is not None:
            return plan
        given = set(names)
        covered, covered_names = [], set()
        for key, group in self._groups.items():
            members = [
                name
                for name, column in sorted(self._columns.items(), key=lambda item: item[1].start)
                if column.group == key
            ]
            if len(members) > 1 and given.issuperset(members):
                covered.append((members, group))
                covered_names.update(members)
        rest = [name for name in names if name in self._columns and name not in covered_names]
        plan = self._write_plans[names] = (covered, rest)
        return plan

    def share_memory(self) -> None:
        """Move CPU groups (and the groups added later) to shared memory; views keep aliasing them."""
        self._is_shared = True
        for group in self._groups.values():
            if group.device.type == "cpu":
                group.share_memory_()

    def _plan(self, names: tuple[str, ...]) -> list[_Step]:
        """Gather steps for `names`: one per group, or one per name where it needs under half the group."""
        by_group: dict[Hashable, list[tuple[int, _Column]]] = {}
        for position, name in enumerate(names):
            if name not in self._columns:
                raise KeyError(
                    f'no tensor named "{name}" in memory{did_you_mean(name, self._columns)}; '
                    f"existing: {sorted(self._columns)}. Create it with memory.create_tensor()."
                )
            column = self._columns[name]
            by_group.setdefault(column.group, []).append((position, column))
        steps = []
        for key, requested in by_group.items():
            group = self._groups[key]
            requested_width = sum(column.stop - column.start for _, column in requested)
            if len(requested) == 1 and requested_width == group.shape[1]:
                steps.append(_Step(group, None, [(requested[0][0], 0, requested[0][1].view_shape)]))
            elif 2 * requested_width >= group.shape[1]:
                starts = sorted(column.start for column in self._columns.values() if column.group == key)
                widths = [stop - start for start, stop in zip(starts, [*starts[1:], group.shape[1]])]
                pieces = [(at, starts.index(col.start), _multi_dim(col.view_shape)) for at, col in requested]
                steps.append(_Step(group, widths, pieces))
            else:
                for position, column in requested:
                    source = group[:, column.start : column.stop]
                    steps.append(_Step(source, None, [(position, 0, column.view_shape)]))
        return steps


def _multi_dim(view_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """`view_shape` if a gathered (B, width) block must be reshaped to it, else None."""
    return view_shape if len(view_shape) > 2 else None
