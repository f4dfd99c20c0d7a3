"""`migrate_model`: the whole of `Model.migrate`, from reading the source to loading the tensors.

read the source safely -> apply ``name_map`` (shape-checked) -> auto-map the rest (`matching`)
-> log -> load only if every tensor of the model got one of its shape.

Differs from skrl 0.10: files are never unpickled; the format is recognised from the content;
auto-mapping uses names and structure, not only shapes, so real rl_games and SB3 files need no
``name_map``; an ambiguous or missing match loads nothing (skrl loaded the last candidate), and a
failed migration leaves the model unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from rlblocks import logger
from rlblocks.utils.migration import rl_games
from rlblocks.utils.migration.hints import model_hints
from rlblocks.utils.migration.matching import Matching, match_tables
from rlblocks.utils.migration.sources import Source, read_source
from rlblocks.utils.migration.structure import group_units, unwrapped_names
from rlblocks.utils.suggest import did_you_mean


def migrate_model(
    model: torch.nn.Module,
    state_dict: Mapping[str, Any] | None = None,
    path: str | os.PathLike | None = None,
    name_map: Mapping[str, str] = {},
    auto_mapping: bool = True,
    verbose: bool = False,
) -> bool:
    """Load a stable-baselines3, rl_games or plain checkpoint's tensors into ``model``.

    Every tensor of ``model.state_dict()`` (parameters and persistent buffers) must receive a
    source tensor of its shape: first from ``name_map``, then, with ``auto_mapping``, from the
    source chain whose layers line up with the model's and whose names suit its role (see
    `rlblocks.utils.migration.matching`). Source tensors the model has no place for (optimizer
    state, normalisation statistics, other heads, target networks) are skipped.

    Args:
        model: the model to load into (a `Model`, or any ``nn.Module``).
        state_dict: the source tensors (name -> tensor), a dict of such dicts, or a whole rl_games
            checkpoint; exclusive with ``path``.
        path: an SB3 ``.zip``, an rl_games ``.pth``, or a torch file holding a state dict.
        name_map: current tensor name -> source tensor name, applied first, with a shape check.
        auto_mapping: map the tensors ``name_map`` does not name automatically.
        verbose: log the current and source tables and every match (``map:`` / ``auto:``).

    Returns:
        True when every tensor got a source tensor of its shape; the model is then loaded and
        switched to eval mode. False otherwise, after warnings saying why; the model is unchanged.

    Raises:
        ValueError: not exactly one of ``state_dict``/``path``; a ``name_map`` key that is not a
            tensor of the model; an unreadable, unsafe or unrecognised source (`CheckpointError`).
    """
    source = read_source(state_dict, path)
    current = model.state_dict()
    _check_name_map_keys(name_map, current)
    unwrapped = unwrapped_names(list(source.tensors))
    if verbose:
        _log_tables(current, source)
    mapped = _resolve_name_map(name_map, current, source, unwrapped)
    matching = Matching()
    if auto_mapping:
        source_table = {short: tuple(source.tensors[name].shape) for short, name in unwrapped.items()}
        current_table = {name: tuple(tensor.shape) for name, tensor in current.items()}
        short_of = {name: short for short, name in unwrapped.items()}
        matching = match_tables(
            current_table,
            source_table,
            model_hints(model, current_table),
            pins={name: short_of[source_name] for name, source_name in mapped.items()},
            equal=lambda a, b: torch.equal(source.tensors[unwrapped[a]], source.tensors[unwrapped[b]]),
        )
    assignments = _assign(current, name_map, mapped, matching, unwrapped, verbose)
    if verbose:
        _log_unused(source, assignments)
    _warn_unmatched(current, name_map, mapped, matching, unwrapped, assignments)
    _mention_normalization(source)
    if len(assignments) < len(current):
        logger.warning(
            f"Migration incomplete: {len(current) - len(assignments)} of {len(current)} tensors of the model "
            f"got no tensor from {source.origin}; the model is unchanged"
        )
        return False
    with torch.no_grad():
        for name, source_name in assignments.items():
            current[name].copy_(source.tensors[source_name])
    model.eval()
    return True


def _check_name_map_keys(name_map: Mapping[str, str], current: Mapping[str, torch.Tensor]) -> None:
    unknown = [name for name in name_map if name not in current]
    if unknown:
        raise ValueError(
            f"name_map keys must be tensor names of the current model; {unknown[0]!r} is not"
            f"{did_you_mean(unknown[0], current)}. The model's names: {list(current)}"
        )


def _resolve_name_map(
    name_map: Mapping[str, str],
    current: Mapping[str, torch.Tensor],
    source: Source,
    unwrapped: Mapping[str, str],
) -> dict[str, str]:
    """Current name -> original source name, for the ``name_map`` entries that can be used."""
    mapped = {}
    for name, source_name in name_map.items():
        original = source_name if source_name in source.tensors else unwrapped.get(source_name)
        if original is None:
            logger.warning(
                f"name_map: the source has no tensor {source_name!r} (for {name})"
                f"{did_you_mean(source_name, source.tensors)}"
            )
            continue
        expected, found = current[name].shape, source.tensors[original].shape
        if expected != found:
            logger.warning(f"Shape mismatch for {name} <- {source_name} : {expected} != {found}")
            continue
        mapped[name] = original
    return mapped


def _assign(
    current: Mapping[str, torch.Tensor],
    name_map: Mapping[str, str],
    mapped: Mapping[str, str],
    matching: Matching,
    unwrapped: Mapping[str, str],
    verbose: bool,
) -> dict[str, str]:
    """Current name -> original source name, in the model's order, logging each when verbose."""
    if verbose:
        logger.info("Migration")
    assignments = {}
    for name in current:
        if name in name_map:
            if name in mapped:
                assignments[name] = mapped[name]
                if verbose:
                    logger.info(f"  |-- map:  {name} <- {mapped[name]}")
        elif name in matching.pairs:
            assignments[name] = unwrapped[matching.pairs[name]]
            if verbose:
                logger.info(f"  |-- auto: {name} <- {assignments[name]}")
    return assignments


def _warn_unmatched(current, name_map, mapped, matching, unwrapped, assignments) -> None:
    for name in current:
        if name in assignments:
            continue
        if name in matching.ambiguous:
            candidates = ", ".join(unwrapped[short] for short in matching.ambiguous[name])
            logger.warning(
                f"Ambiguous match for {name} <- [{candidates}]: equally good by shape, structure and "
                "names; nothing loaded for it (choose one with name_map)"
            )
        elif name in name_map:
            logger.warning(f"Missing match for {name}: its name_map entry {name_map[name]!r} cannot be used")
        elif name in matching.missing:
            logger.warning(f"Missing match for {name} {tuple(current[name].shape)}: {matching.missing[name]}")
        else:
            logger.warning(f"Missing match for {name}: not in name_map, and auto_mapping is off")


def _log_tables(current: Mapping[str, torch.Tensor], source: Source) -> None:
    logger.info("Models")
    logger.info(f"  |-- current: {len(current)} items")
    for name, tensor in current.items():
        logger.info(f"  |    |-- {name} : {tensor.shape}")
    logger.info(f"  |-- source: {len(source.tensors)} items")
    for name, tensor in source.tensors.items():
        logger.info(f"  |    |-- {name} : {tensor.shape}")


def _log_unused(source: Source, assignments: Mapping[str, str]) -> None:
    used = set(assignments.values())
    table = {name: tuple(tensor.shape) for name, tensor in source.tensors.items() if name not in used}
    counts: dict[str, int] = {}
    for unit in group_units(table):
        counts[unit.block] = counts.get(unit.block, 0) + len(unit.names)
    if counts:
        logger.info("  |-- unused: " + ", ".join(f"{block} ({count})" for block, count in counts.items()))


def _mention_normalization(source: Source) -> None:
    tensors = {**source.tensors, **source.extras}
    found = [
        f"{what} ({prefix})"
        for what, prefix in rl_games.STATISTICS_PREFIXES.items()
        if rl_games.find_statistics(tensors, prefix) is not None
    ]
    if found:
        logger.info(
            f"{source.origin} also normalises {' and '.join(found)}; the model alone will not act like the "
            "source: load them with rlblocks.utils.migration.load_normalization()"
        )
