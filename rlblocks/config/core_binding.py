"""Binding each local rank of a CPU (gloo) torchrun job to its own share of the cores.

Under torchrun every rank of a machine is a process with its compute thread and gloo's worker and
socket threads. Left to the scheduler, a gloo thread woken by incoming data is often placed on the
core where another rank is computing, and waits there to be scheduled: on the 2-core development
VM that made the mean gradient all-reduce 1.2 ms instead of 0.57 ms, with a p90 of 2.9 ms instead
of 0.6 ms (benchmarks/README.md, "Several processes"). Bound to disjoint cores, a rank's gloo
threads run on the core its compute thread leaves free while it waits.

`bind_local_rank_to_cores` runs before the gloo group is created (so gloo's threads inherit the
binding), from `rlblocks.config.torch.init_process_group`. ``RLBLOCKS_BIND_CORES``: ``auto`` (the
default) binds when it fits, ``0`` never binds. "Fits": the process may run on at least
``LOCAL_WORLD_SIZE`` cores and each rank's equal share holds ``torch.get_num_threads()`` cores (one
thread per rank on 2 cores; 4 threads per rank need 8 cores for 2 ranks). Rank ``r`` of ``n`` on a
machine gets the ``r``-th of ``n`` equal, consecutive slices of the cores the process may run on
(``os.sched_getaffinity``), so a job started under ``taskset`` splits the cores it was given.
"""

from __future__ import annotations

import os

import torch

BIND_MODES = ("auto", "0")


def cores_of_local_rank(cores: list[int], local_rank: int, local_world_size: int, threads: int) -> list[int]:
    """The cores of ``local_rank``: its slice of ``cores`` cut in ``local_world_size`` equal parts.

    [] (no binding) when there is one local rank, or a share would hold fewer than ``threads`` cores.

    Example: cores [0, 1, 2, 3], 2 ranks, 1 thread: rank 0 -> [0, 1], rank 1 -> [2, 3].
    """
    ordered = sorted(cores)
    share = len(ordered) // max(local_world_size, 1)
    if local_world_size < 2 or share < max(threads, 1):
        return []
    return ordered[local_rank * share : (local_rank + 1) * share]


def bind_local_rank_to_cores() -> list[int]:
    """Bind this process to its local rank's cores (see the module docstring); the cores, or [] if unbound.

    Raises:
        ValueError: ``RLBLOCKS_BIND_CORES`` is neither ``auto`` nor ``0``.
    """
    mode = os.environ.get("RLBLOCKS_BIND_CORES", "auto").strip().lower()
    if mode not in BIND_MODES:
        raise ValueError(
            f"environment variable RLBLOCKS_BIND_CORES={mode!r} is not one of {', '.join(BIND_MODES)}; "
            "unset it (bind each local rank to its own cores when they fit) or set it to 0 (never bind)"
        )
    if mode == "0" or not hasattr(os, "sched_setaffinity"):
        return []
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    local_rank = int(os.environ.get("LOCAL_RANK", "0") or 0)
    mine = cores_of_local_rank(
        list(os.sched_getaffinity(0)), local_rank, local_world_size, torch.get_num_threads()
    )
    if mine:
        os.sched_setaffinity(0, mine)
    return mine
