"""Where this process stands in a `torchrun` job: ``local_rank``, ``rank``, ``world_size``, ``device``.

skrl 1.x's ``skrl.config.torch``, as a module whose attributes are read from torchrun's
environment variables when asked for (``LOCAL_RANK``, ``RANK``, ``WORLD_SIZE``; 0, 0 and 1
without torchrun)::

    from rlblocks.config import torch as config
    config.rank, config.world_size, config.is_distributed, config.device

``device`` is ``cuda:<local_rank>`` when CUDA is available, else ``cpu``; assign
``config.device = ...`` (or ``config.timeout = timedelta(...)``) to choose for yourself.

The process group is created on first use (`init_process_group`, called by every collective in
`rlblocks.utils.distributed`), never at import: NCCL for a CUDA device, gloo otherwise, with a
``timeout`` (``RLBLOCKS_DISTRIBUTED_TIMEOUT`` seconds, default 300) after which a collective that a
dead or stuck rank never joins raises instead of waiting for ever. A gloo group created here is
destroyed at exit. Before a gloo group is created, each local rank is bound to its own share of the
cores when they fit (`rlblocks.config.core_binding`; ``RLBLOCKS_BIND_CORES=0`` turns it off).

Differs from skrl 1.x: gloo on CPU (skrl always asks for NCCL, so ``import skrl`` fails under
torchrun on a machine without CUDA); the group is created lazily, not at import.
"""

from __future__ import annotations

import atexit
import os
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from rlblocks.config.core_binding import bind_local_rank_to_cores

__all__ = ["init_process_group"]  # and, read on access: device, is_distributed, local_rank, rank, timeout,
# world_size

DEFAULT_TIMEOUT_SECONDS = 300.0


def _env_int(name: str, default: int, low: int) -> int:
    """The int value of environment variable ``name`` (``default`` when unset).

    Raises:
        ValueError: a value that is not an int >= ``low``.
    """
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise ValueError(
            f"environment variable {name}={text!r} is not an int >= {low}; torchrun sets it, so launch "
            f"with torchrun or unset {name}"
        )
    return value


def _timeout_from_env() -> timedelta:
    text = os.environ.get("RLBLOCKS_DISTRIBUTED_TIMEOUT")
    if text is None or text == "":
        return timedelta(seconds=DEFAULT_TIMEOUT_SECONDS)
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(
            f"RLBLOCKS_DISTRIBUTED_TIMEOUT={text!r} is not a positive number of seconds; e.g. 300"
        )
    return timedelta(seconds=seconds)


def __getattr__(name: str) -> Any:
    """The attributes read from the environment at each access (unless assigned)."""
    if name == "local_rank":
        return _env_int("LOCAL_RANK", 0, 0)
    if name == "rank":
        return _env_int("RANK", 0, 0)
    if name == "world_size":
        return _env_int("WORLD_SIZE", 1, 1)
    if name == "is_distributed":
        return _env_int("WORLD_SIZE", 1, 1) > 1
    if name == "device":
        if torch.cuda.is_available():
            return torch.device(f"cuda:{_env_int('LOCAL_RANK', 0, 0)}")
        return torch.device("cpu")
    if name == "timeout":
        return _timeout_from_env()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def init_process_group() -> bool:
    """Create the default process group if this is a distributed run and none exists yet.

    The backend is NCCL when ``device`` is a CUDA device (which becomes the current device), gloo
    otherwise; rendezvous through torchrun's ``MASTER_ADDR``/``MASTER_PORT``. A group the user
    created beforehand is used as it is.

    Returns:
        Whether a process group is in use (False in a one-process run).

    Raises:
        RuntimeError: a process group whose world size differs from ``WORLD_SIZE``.
    """
    world = _env_int("WORLD_SIZE", 1, 1)
    if world == 1:
        return False
    if not dist.is_initialized():
        chosen = torch.device(globals().get("device") or __getattr__("device"))
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        if chosen.type == "cuda":
            torch.cuda.set_device(chosen)
        else:
            bind_local_rank_to_cores()  # before the group: gloo's threads inherit the binding
        dist.init_process_group(backend=backend, timeout=globals().get("timeout") or _timeout_from_env())
        if backend == "gloo":
            atexit.register(_destroy_gloo_group)
    if dist.get_world_size() != world:
        raise RuntimeError(
            f"the process group has {dist.get_world_size()} ranks but WORLD_SIZE is {world}; create the "
            "group with the launcher's world size (or let rlblocks create it)"
        )
    return True


def _destroy_gloo_group() -> None:
    """At exit, destroy the gloo group rlblocks created, while the interpreter is still whole.

    Left to interpreter finalisation, gloo's worker threads may release tensors after Python is
    gone, which now and then aborts a process (SIGABRT) at the end of a successful run.
    """
    if dist.is_initialized():
        dist.destroy_process_group()
