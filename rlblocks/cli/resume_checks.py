"""What ``rlblocks train --resume`` checks before it continues a run: its config.yaml and checkpoint agree.

The agent is rebuilt from the run's config.yaml; when that file was edited, cut short or replaced,
the rebuilt models would not be the checkpoint's (or, worse, the hyperparameters silently change).
`check_config_text` refuses a config.yaml that is empty, does not parse, or lacks the last line
`run_dir.save_config` writes; `check_models_match` names every parameter whose shape differs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import yaml

from rlblocks.cli.registry import CLIError
from rlblocks.utils.checkpoint import safe_load

END_LINE = "# end of config.yaml (rlblocks)"
"""The last line `run_dir.save_config` writes: a config.yaml without it was cut short."""
_MAX_LISTED = 4
"""Differences a message lists before "and N more"."""
_MAX_CAUSE = 300
"""Characters of a YAML error quoted in a message."""


def check_config_text(path: str) -> None:
    """Raise CLIError unless ``path`` holds a complete config.yaml: not empty, valid YAML, `END_LINE` last.

    Raises:
        CLIError: one line naming the file, what is wrong and the fix.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CLIError(f"cannot resume: cannot read {path!r}: {_one_line(error)}") from None
    fix = "restore it (e.g. from a copy of the run) or start a new run"
    if not text.strip():
        raise CLIError(
            f"cannot resume: {path!r} is empty, so the run's models and settings are unknown; {fix}"
        )
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CLIError(f"cannot resume: {path!r} is not valid YAML ({_one_line(error)}); {fix}") from None
    if text.rstrip().splitlines()[-1].strip() != END_LINE:
        raise CLIError(
            f"cannot resume: {path!r} does not end with the line {END_LINE!r} that rlblocks writes last, so "
            f"it may have been cut short (settings missing would silently take their defaults); {fix}, "
            "or, if you edited it on purpose, add that line back at its end"
        )


def check_models_match(agent: Any, checkpoint: str, config_path: str) -> None:
    """Raise CLIError when the models built from ``config_path`` are not those saved in ``checkpoint``.

    Compares the agent class and, for every model role, the parameter and buffer names and shapes.

    Raises:
        CLIError: one line naming each differing module and parameter (the first few) and the fix.
        CheckpointError: the checkpoint cannot be read.
    """
    content = safe_load(checkpoint, map_location="cpu")
    if not isinstance(content, Mapping):
        return  # agent.load explains what the file is
    meta = content.get("_rlblocks")
    saved_agent = meta.get("agent") if isinstance(meta, Mapping) else None
    fix = "restore the run's config.yaml or start a new run (--run-dir) with the new settings"
    if isinstance(saved_agent, str) and saved_agent != type(agent).__name__:
        raise CLIError(
            f"cannot resume: {config_path!r} describes a {type(agent).__name__} agent, but {checkpoint!r} "
            f"holds a {saved_agent}; {fix}"
        )
    differences = []
    for role, model in agent.models.items():
        if model is None:
            continue
        saved = content.get(role)
        if not isinstance(saved, Mapping):
            differences.append(f"model {role!r} is not in the checkpoint")
            continue
        differences += _state_differences(role, saved, model.state_dict())
    if differences:
        listed = "; ".join(differences[:_MAX_LISTED])
        more = f"; and {len(differences) - _MAX_LISTED} more" if len(differences) > _MAX_LISTED else ""
        raise CLIError(
            f"cannot resume: the models {os.path.basename(config_path)} describes do not match "
            f"{checkpoint!r}: {listed}{more}. Was {config_path!r} edited? {fix[0].upper()}{fix[1:]}"
        )


def _state_differences(role: str, saved: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """``role.name: ...`` for each entry only one side has, or whose shapes differ."""
    differences = []
    for name in sorted(set(saved) | set(live), key=str):
        if name not in live:
            differences.append(f"{role}.{name} is in the checkpoint only")
        elif name not in saved:
            differences.append(f"{role}.{name} is in the config's model only")
        else:
            saved_shape, live_shape = _shape(saved[name]), _shape(live[name])
            if saved_shape != live_shape:
                differences.append(
                    f"{role}.{name} is {saved_shape} in the checkpoint, {live_shape} from the config"
                )
    return differences


def _shape(value: Any) -> tuple[int, ...] | str:
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else type(value).__name__


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= _MAX_CAUSE else f"{text[:_MAX_CAUSE]}..."
