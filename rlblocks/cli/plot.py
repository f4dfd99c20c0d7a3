"""Learning curves from a run's TensorBoard events, drawn to PNG with matplotlib (Agg, no window).

Several runs of one config (the same config.yaml but for the seed) are drawn as their mean with a
± one standard deviation band, on the steps every run reached; the band is clipped to the range the
runs' values span (a CartPole return band does not pass 500). Runs of different configs that share
an algorithm and env are labelled by the keys in which their configs differ. The x-axis is in
environment steps (summed over envs and ranks), so runs with 1 and 8 envs line up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rlblocks.agents.torch import tags
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError

RETURN_TAG = f"{tags.TOTAL_REWARD} (mean)"
"""The tag a learning curve shows: the mean return of the episodes finished between two writes."""
FIGURE_SIZE = (8.0, 5.0)
DPI = 100
"""Figures are FIGURE_SIZE * DPI = 800 x 500 pixels."""


@dataclass
class Curve:
    """One run's scalar series."""

    run_dir: str
    steps: np.ndarray
    values: np.ndarray


def read_curve(run_dir: str, tag: str = RETURN_TAG) -> Curve:
    """The ``tag`` series of a run, by timestep (a resumed run's rewritten steps keep the newest value).

    Raises:
        CLIError: the directory is missing or holds no events with that tag.
    """
    if not os.path.isdir(run_dir):
        raise CLIError(f"run directory {run_dir!r} does not exist; pass directories made by `rlblocks train`")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    latest: dict[int, tuple[float, float]] = {}
    event_files = sorted(name for name in os.listdir(run_dir) if name.startswith("events.out.tfevents"))
    for name in event_files:
        accumulator = EventAccumulator(os.path.join(run_dir, name), size_guidance={"scalars": 0})
        accumulator.Reload()
        if tag not in accumulator.Tags().get("scalars", []):
            continue
        for event in accumulator.Scalars(tag):
            if event.step not in latest or event.wall_time >= latest[event.step][0]:
                latest[event.step] = (event.wall_time, event.value)
    if not latest:
        found = "no TensorBoard events" if not event_files else f"no {tag!r} scalars"
        raise CLIError(
            f"{run_dir!r} has {found}; was it trained long enough to finish an episode, with a "
            "write_interval > 0?"
        )
    steps = np.array(sorted(latest), dtype=np.int64)
    return Curve(run_dir, steps, np.array([latest[int(step)][1] for step in steps], dtype=np.float64))


def _group_key(run_dir: str) -> tuple[str, str, dict[str, object]]:
    """(label, key, flattened config): runs of one config but for the seed share the key."""
    try:
        config = runs.load_config(run_dir)
    except CLIError:
        return os.path.basename(os.path.normpath(run_dir)), os.path.abspath(run_dir), {}
    content = config.to_dict()
    content.pop("seed", None)
    content.pop("device", None)
    return f"{config.algo} {config.env}", repr(sorted(content.items())), _flatten(content)


def _flatten(content: object, prefix: str = "") -> dict[str, object]:
    """{"agent.learning_rate": 0.001, ...}: nested config sections as dotted keys."""
    if not isinstance(content, dict):
        return {prefix: content}
    flat: dict[str, object] = {}
    for key, value in content.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _labels(groups: dict[str, tuple[str, dict[str, object], list]]) -> dict[str, str]:
    """A legend label per group: "algo env", plus the differing config keys where labels clash."""
    by_label: dict[str, list[str]] = {}
    for key, (label, _, _) in groups.items():
        by_label.setdefault(label, []).append(key)
    labels = {}
    for label, keys in by_label.items():
        if len(keys) == 1:
            labels[keys[0]] = label
            continue
        configs = [groups[key][1] for key in keys]
        names = sorted({name for config in configs for name in config})
        differing = [name for name in names if len({repr(config.get(name)) for config in configs}) > 1]
        for key, config in zip(keys, configs, strict=True):
            details = ", ".join(f"{name.split('.')[-1]}={config.get(name)}" for name in differing[:3])
            labels[key] = f"{label} ({details})" if details else label
    return labels


def plot_runs(run_dirs: Sequence[str], output: str, tag: str = RETURN_TAG, title: str | None = None) -> str:
    """Draw the runs' curves (mean ± std per config) to ``output`` (PNG); returns its path.

    Raises:
        CLIError: a run without events, or no run at all.
    """
    if not run_dirs:
        raise CLIError("no run directory given; pass at least one")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups: dict[str, tuple[str, dict[str, object], list[Curve]]] = {}
    for run_dir in run_dirs:
        label, key, config = _group_key(run_dir)
        groups.setdefault(key, (label, config, []))[2].append(read_curve(run_dir, tag))
    labels = _labels(groups)

    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for key, (_, _, curves) in groups.items():
        steps, mean, low, high = band(curves)
        suffix = f" ({len(curves)} runs)" if len(curves) > 1 else ""
        (line,) = axes.plot(steps, mean, label=f"{labels[key]}{suffix}")
        if len(curves) > 1:
            axes.fill_between(steps, low, high, color=line.get_color(), alpha=0.25)
    axes.set_xlabel("environment steps")
    axes.set_ylabel(tag.split(" / ")[-1])
    axes.set_title(title or tag)
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    figure.savefig(output, dpi=DPI)
    return output


def band(curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(steps, mean, low, high): mean ± std of the curves, clipped to the range their values span.

    A mean ± std band can leave the range the data can take (returns of 500, 500 and 420 give a
    band up to 535 on CartPole); the values the runs actually reached bound it at every step.
    """
    steps, values = _aligned(curves)
    mean, std = values.mean(axis=0), values.std(axis=0)
    low = np.clip(mean - std, values.min(axis=0), values.max(axis=0))
    high = np.clip(mean + std, values.min(axis=0), values.max(axis=0))
    return steps, mean, low, high


def _aligned(curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values (runs, steps)): the curves on the union of their steps, up to the last all reached."""
    if len(curves) == 1:
        return curves[0].steps, curves[0].values[None]
    end = min(int(curve.steps[-1]) for curve in curves)
    start = max(int(curve.steps[0]) for curve in curves)
    steps = np.unique(np.concatenate([curve.steps for curve in curves]))
    steps = steps[(steps >= start) & (steps <= end)]
    if steps.size == 0:
        steps = np.array([end])
    return steps, np.stack([np.interp(steps, curve.steps, curve.values) for curve in curves])
