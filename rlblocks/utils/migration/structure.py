"""The structure behind a state dict's names: layers ("units") and the sub-networks ("blocks") they form.

A state dict is a flat table ``name -> shape``. Its names say more than the shapes alone:

- a *unit* is what is matched as a whole: the tensors of one layer (``net.0.weight`` and
  ``net.0.bias`` form unit ``net.0``), or a tensor held directly by a module that also has
  sub-modules, such as ``log_std_parameter`` or rl_games' ``a2c_network.sigma`` (a *lone* unit);
- a *block* is a chain of layer units under one prefix with sequential indices (``net.0``,
  ``net.2``, ``net.4`` form block ``net``, in index order); a layer with no index (``action_net``,
  ``a2c_network.mu``) is a block of its own.

Wrapper components that do not change the network (``_orig_mod`` from ``torch.compile``, a
``module.`` prefix on every name from ``DataParallel``) are stripped before any of this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

Shape = tuple[int, ...]
"""A tensor's shape as a tuple of ints."""

WRAPPER_COMPONENTS = frozenset({"_orig_mod"})
"""Name components inserted by wrappers (torch.compile) and absent from the wrapped network."""

LONE = ""
"""The leaf name of a lone unit's single tensor (the unit's path is the full tensor name)."""


@dataclass(frozen=True)
class Unit:
    """Tensors matched together: one layer's, or a single tensor on its own.

    Attributes:
        path: the layer's module path ("net.0"), or a lone tensor's full name ("log_std_parameter").
        leaves: the tensors' last name components ("weight", "bias"), or (LONE,) for a lone tensor.
        shapes: the tensors' shapes, in the order of ``leaves``.
        block: the block the unit belongs to ("net" for "net.0"; its own path otherwise).
        position: its index in the block ("net.4" -> 4; 0 when the path ends in no index).
        order: where its first tensor appears in the table (file or registration order).
    """

    path: str
    leaves: tuple[str, ...]
    shapes: tuple[Shape, ...]
    block: str
    position: int
    order: int

    @property
    def is_lone(self) -> bool:
        """Whether the unit is one tensor held directly by a container module (or at the root)."""
        return self.leaves == (LONE,)

    @property
    def names(self) -> tuple[str, ...]:
        """The unit's full tensor names, in the order of ``leaves``."""
        return tuple(self.path if leaf == LONE else f"{self.path}.{leaf}" for leaf in self.leaves)

    @property
    def signature(self) -> tuple:
        """What must be equal for two units to be interchangeable: tensor kinds and shapes."""
        if self.is_lone:
            return (LONE, tensor_kind(self.path), self.shapes[0])
        return tuple(sorted(zip(self.leaves, self.shapes)))

    @property
    def in_width(self) -> int | None:
        """The input width of a layer with a 2-D ``weight`` (out, in); None otherwise."""
        shape = self._weight_shape()
        return shape[1] if shape is not None else None

    @property
    def out_width(self) -> int | None:
        """The output width of a layer with a 2-D ``weight`` (out, in); None otherwise."""
        shape = self._weight_shape()
        return shape[0] if shape is not None else None

    def _weight_shape(self) -> Shape | None:
        for leaf, shape in zip(self.leaves, self.shapes):
            if leaf == "weight" and len(shape) == 2:
                return shape
        return None


def tensor_kind(name: str) -> str:
    """The tensor's kind, from its name's last component: "weight", "bias" or "other" (skrl's three)."""
    leaf = name.rsplit(".", 1)[-1]
    return leaf if leaf in ("weight", "bias") else "other"


def strip_wrappers(name: str) -> str:
    """``name`` without wrapper components: ``_orig_mod.a2c_network.mu.w`` -> ``a2c_network.mu.w``."""
    return ".".join(part for part in name.split(".") if part not in WRAPPER_COMPONENTS)


def unwrapped_names(names: list[str]) -> dict[str, str]:
    """Stripped name -> original name, for every name (the first one wins if two strip alike).

    A ``module.`` prefix is stripped only when every name has it (a DataParallel wrapper).
    """
    strip_module = bool(names) and all(name.startswith("module.") for name in names)
    stripped: dict[str, str] = {}
    for name in names:
        short = strip_wrappers(name.removeprefix("module.") if strip_module else name)
        stripped.setdefault(short, name)
    return stripped


def group_units(table: Mapping[str, Shape]) -> list[Unit]:
    """The units of a ``name -> shape`` table, in the order their first tensor appears."""
    owners = {name.rpartition(".")[0] for name in table if "." in name}
    containers = {ancestor for owner in owners for ancestor in _ancestors(owner)}
    grouped: dict[str, tuple[list[str], list[Shape], int]] = {}
    for order, (name, shape) in enumerate(table.items()):
        owner, _, leaf = name.rpartition(".")
        if not owner or owner in containers:
            owner, leaf = name, LONE
        leaves, shapes, _ = grouped.setdefault(owner, ([], [], order))
        leaves.append(leaf)
        shapes.append(tuple(shape))
    units = []
    for path, (leaves, shapes, order) in grouped.items():
        block, position = _block_of(path, is_lone=leaves == [LONE])
        units.append(Unit(path, tuple(leaves), tuple(shapes), block, position, order))
    return units


def group_blocks(units: list[Unit]) -> list[list[Unit]]:
    """Layer units (lone ones left out) grouped into blocks, blocks in order of first appearance."""
    blocks: dict[str, list[Unit]] = {}
    for unit in units:
        if not unit.is_lone:
            blocks.setdefault(unit.block, []).append(unit)
    return [sorted(members, key=lambda unit: unit.position) for members in blocks.values()]


def name_tokens(path: str) -> frozenset[str]:
    """Lower-case words of a name, split at dots, underscores and digits: "critic.qf0" -> {critic, qf}."""
    return frozenset(word for word in re.split(r"[._\d]+", path.lower()) if word)


def sibling_key(path: str) -> str:
    """A name with its numbers blanked, equal for parallel copies: "critic.qf0.2" -> "critic.qf#.#"."""
    return re.sub(r"\d+", "#", path)


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:index]) for index in range(1, len(parts))]


def _block_of(path: str, is_lone: bool) -> tuple[str, int]:
    parent, _, last = path.rpartition(".")
    if not is_lone and parent and last.isdigit():
        return parent, int(last)
    return path, 0
