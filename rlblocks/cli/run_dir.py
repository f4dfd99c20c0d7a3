"""The run directory: one training run's files, enough to resume, evaluate, export and plot it.

Layout of ``runs/<timestamp>_<algo>_<env>/``::

    config.yaml                 the resolved run config (algo, env, models, agent cfg, ...), its last
                                line `resume_checks.END_LINE`
    events.out.tfevents.*       TensorBoard events (tags from rlblocks.agents.torch.tags)
    checkpoints/agent_<t>.pt    the agent after t timesteps (the largest t is the latest)
    checkpoints/best_agent.pt   the agent at its best recent mean return
    checkpoints/replay_memory_<t>.pt  the replay memory of the latest agent_<t>.pt (off-policy agents)
    curve.png                   the learning curve, drawn at the end of training

A run made from Python (a trainer and an agent with ``experiment.directory``) gets the same
config.yaml when it can be described (`rlblocks.cli.python_runs`), else not_rebuildable.txt.
"""

from __future__ import annotations

import datetime
import os
import re

from rlblocks.agents.torch.base import latest_checkpoint
from rlblocks.cli import config as run_config
from rlblocks.cli import resume_checks
from rlblocks.cli.registry import CLIError
from rlblocks.utils.checkpoint import CheckpointError, atomic_write_text
from rlblocks.utils.temporary_files import remove_orphan_temporaries

CONFIG_FILE = "config.yaml"
CURVE_FILE = "curve.png"
CHECKPOINTS = "checkpoints"
BEST_CHECKPOINT = "best_agent.pt"
NOT_REBUILDABLE_FILE = "not_rebuildable.txt"
"""What a run made from Python holds instead of config.yaml when the CLI cannot rebuild it."""


def new_run_dir(root: str, algo: str, env_id: str) -> str:
    """A fresh ``<root>/<timestamp>_<algo>_<env>`` path (not created; a suffix avoids collisions)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{stamp}_{algo}_{env_id}")
    path, index = os.path.join(root, name), 1
    while os.path.exists(path):
        index += 1
        path = os.path.join(root, f"{name}-{index}")
    return path


def check_fresh(path: str, resume_hint: bool = False) -> None:
    """Refuse a path that cannot become a new run directory: a file, or a directory holding files.

    Raises:
        CLIError: the path is a file, or a non-empty directory (``resume_hint``: say how to
            continue that run instead).
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(
            f"run directory {path!r} is a file, not a directory; pick a new --run-dir (a directory that "
            "does not exist yet, or an empty one)"
        )
    if os.path.isdir(path) and os.listdir(path):
        hint = f", or continue that run with --resume {path}" if resume_hint else ""
        raise CLIError(f"run directory {path!r} already holds files; pick a new --run-dir{hint}")


def save_config(run_dir: str, config: run_config.RunConfig) -> str:
    """Write ``config.yaml`` into ``run_dir`` (created if needed), atomically; returns its path.

    A crash or a full disk mid-write leaves the previous file as it was, so a run stays resumable;
    the last line is `resume_checks.END_LINE`, so that a file cut short otherwise is recognised.
    """
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, CONFIG_FILE)
    atomic_write_text(path, f"{run_config.to_yaml(config)}{resume_checks.END_LINE}\n")
    return path


def load_config(run_dir: str, resuming: bool = False) -> run_config.RunConfig:
    """The run config saved in ``run_dir``; the temporary files a killed write left there are removed.

    Args:
        run_dir: the run directory.
        resuming: also refuse a config.yaml that is empty or lacks its last line (cut short); see
            `resume_checks.check_config_text`.

    Raises:
        CLIError: not a directory, or no readable (with ``resuming``: complete) config.yaml in it.
    """
    if not os.path.isdir(run_dir):
        raise CLIError(f"run directory {run_dir!r} does not exist; pass a directory made by `rlblocks train`")
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        check_rebuildable(run_dir)
        raise CLIError(
            f"{run_dir!r} holds no {CONFIG_FILE}, so it is not an rlblocks run directory; pass one made by "
            "`rlblocks train` or `rlblocks migrate`"
        )
    remove_orphan_temporaries(run_dir, checkpoints_dir(run_dir))
    if resuming:
        resume_checks.check_config_text(path)
    return run_config.from_dict(run_config.read_yaml(path))


def check_rebuildable(run_dir: str) -> None:
    """Raise the reason a run made from Python left in ``run_dir`` (`python_runs.NOT_REBUILDABLE_FILE`).

    Raises:
        CLIError: the run's agent cannot be rebuilt by the CLI (the file's text: which part, what to do).
    """
    note = os.path.join(run_dir, NOT_REBUILDABLE_FILE)
    if os.path.isfile(note):
        with open(note, encoding="utf-8") as stream:
            raise CLIError(stream.read(4000).strip())


def checkpoints_dir(run_dir: str) -> str:
    """``<run_dir>/checkpoints``."""
    return os.path.join(run_dir, CHECKPOINTS)


def latest(run_dir: str) -> str:
    """The latest ``agent_<t>.pt`` of a run.

    Raises:
        CLIError: the run has no checkpoint yet.
    """
    try:
        return latest_checkpoint(checkpoints_dir(run_dir))
    except CheckpointError as error:
        raise CLIError(f"cannot resume {run_dir!r}: {error}") from None


def locate(path: str) -> tuple[str, str]:
    """``(run_dir, checkpoint)`` for a run directory or a checkpoint file inside one.

    A run directory gives its ``best_agent.pt`` if there is one, else its latest checkpoint.

    Raises:
        CLIError: the path does not exist, or is neither a run directory nor a checkpoint in one.
    """
    if not os.path.exists(path):
        raise CLIError(f"{path!r} does not exist; pass a run directory or a checkpoint file inside one")
    if os.path.isdir(path):
        run_dir = path
        load_config(run_dir)  # fails clearly if it is not a run directory
        best = os.path.join(checkpoints_dir(run_dir), BEST_CHECKPOINT)
        if os.path.isfile(best):
            return run_dir, best
        try:
            return run_dir, latest_checkpoint(checkpoints_dir(run_dir))
        except CheckpointError as error:
            raise CLIError(f"{run_dir!r} has no checkpoint: {error}") from None
    folder = os.path.dirname(os.path.abspath(path))
    run_dir = os.path.dirname(folder) if os.path.basename(folder) == CHECKPOINTS else folder
    if not os.path.isfile(os.path.join(run_dir, CONFIG_FILE)):
        check_rebuildable(run_dir)
        raise CLIError(
            f"{path!r} is not inside an rlblocks run directory (no {CONFIG_FILE} in {run_dir!r}), so the "
            "models cannot be rebuilt; for SB3/rl_games files run `rlblocks migrate FILE` first"
        )
    return run_dir, path
