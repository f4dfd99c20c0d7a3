"""Loading torch files without running code from them: ``weights_only=True`` plus numpy scalars.

``torch.load(..., weights_only=True)`` builds only tensors and plain containers. Real rl_games
checkpoints also hold a numpy scalar (``last_mean_rewards``), so numpy's scalar and dtype
reconstructors are allowed too; they build numbers and dtypes, nothing else.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from rlblocks.utils.checkpoint import weights_only_load

SUPPORTED = (
    "supported: a stable-baselines3 .zip (with a policy.pth member), an rl_games .pth (a dict with a "
    '"model" state dict), or a torch file holding a state dict (name -> tensor) or a dict of them'
)
"""The end of every 'unrecognised source' error message."""


def load_weights_only(stream: io.IOBase, origin: str) -> Any:
    """``torch.load(stream, weights_only=True)`` with numpy scalars and dtypes also allowed.

    Raises:
        CheckpointError: the file needs other globals (loading it would run code; the message
            names the object), declares more data than it holds, or is not a torch file at all.
    """
    return weights_only_load(stream, origin, "cpu", numpy_scalar_globals(), _unreadable)


def _unreadable(origin: str, cause: str) -> str:
    return f"cannot migrate from {origin!r}: it is not a readable torch file ({cause}); {SUPPORTED}."


def numpy_scalar_globals() -> list[Any]:
    """The numpy reconstructors rl_games checkpoints need: ``scalar``, ``dtype`` and dtype classes.

    They build numbers and dtypes only. Files written under numpy 1.x name the scalar
    reconstructor ``numpy.core.multiarray.scalar``, so that name is allowed as an alias.
    """
    core = np._core if hasattr(np, "_core") else np.core
    scalar = core.multiarray.scalar
    kinds = "?bBhHiIlLqQefdgFDG"
    dtype_classes = {type(np.dtype(kind)) for kind in kinds}
    return [
        scalar,
        (scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
        *sorted(dtype_classes, key=lambda cls: cls.__name__),
    ]
