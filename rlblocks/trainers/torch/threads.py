"""How many torch threads a run uses: one for small CPU models unless the user says otherwise.

torch's default is one intra-op thread per core. The MLPs of most RL runs are far too small for a
second thread to help: every matmul pays the threads' synchronisation, and on a machine whose cores
are busy stepping environments, oversubscription slows training several times over. So a trainer
uses one thread while it runs, on CPU, for models of at most `SMALL_MODEL_PARAMETERS` parameters,
and restores the previous setting afterwards (torch's global state is changed only during the run,
never at import).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import Any

import torch

SMALL_MODEL_PARAMETERS = 1_000_000
"""Above this many parameters (all the agents' models together), "auto" leaves torch's threads alone."""


def threads_for_run(setting: int | str | None, agents: Iterable[Any]) -> int | None:
    """The thread count to use while the agents run, or None to leave torch's setting.

    Args:
        setting: the trainer's ``torch_threads``: "auto" (1 for small models on CPU, unless
            ``OMP_NUM_THREADS`` is set), a positive int, or None (never change it).
        agents: the trainer's agents (their ``device`` and ``models`` are read).
    """
    if setting is None:
        return None
    if setting != "auto":
        return int(setting)
    if "OMP_NUM_THREADS" in os.environ:
        return None
    agents = list(agents)
    if any(torch.device(getattr(agent, "device", "cpu")).type != "cpu" for agent in agents):
        return None
    return 1 if _parameter_count(agents) <= SMALL_MODEL_PARAMETERS else None


def _parameter_count(agents: list[Any]) -> int:
    models = {id(model): model for agent in agents for model in getattr(agent, "models", {}).values()}
    return sum(
        parameter.numel()
        for model in models.values()
        if isinstance(model, torch.nn.Module)
        for parameter in model.parameters()
    )


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Use ``count`` intra-op threads inside the block (None: leave them), then restore."""
    if count is None or count == torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
