"""stable-baselines3 files: the policy state dict inside a ``.zip``, and ``VecNormalize`` statistics.

An SB3 ``.zip`` is a plain zip archive. Its ``policy.pth`` member is ``torch.save(policy.state_dict())``
and is the only member read here, with the weights-only loader. The ``data`` member is never
read: SB3 itself runs ``cloudpickle.loads`` on parts of it.

Observation normalisation lives outside the ``.zip``, in the pickle ``VecNormalize.save`` writes
(``vec_normalize.pkl``). It is read with `inert_pickle`, which never runs code from the file. SB3
normalises with ``clip((obs - mean) / sqrt(var + epsilon), -clip_obs, clip_obs)``.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any, NamedTuple

import numpy as np
import torch

from rlblocks.utils import load_bounds
from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.load_errors import cause, is_code_running, pickle_globals, refusal_message, short_repr
from rlblocks.utils.migration.inert_pickle import Inert, inert_load
from rlblocks.utils.migration.loading import SUPPORTED, load_weights_only

POLICY_MEMBER = "policy.pth"
"""The archive member holding the policy's state dict (with its target networks, if any)."""


class VecNormalizeStatistics(NamedTuple):
    """What a ``VecNormalize`` pickle holds for observations (``mean``/``var`` are (obs_dim,) float64)."""

    mean: np.ndarray
    var: np.ndarray
    count: float
    epsilon: float
    clip_obs: float
    norm_obs: bool


def read_policy_state_dict(path: str) -> dict[str, torch.Tensor]:
    """The ``policy.pth`` member of an SB3 archive, loaded weights-only into memory.

    Raises:
        CheckpointError: the archive has no ``policy.pth``, or the member is not a safe state dict.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        if POLICY_MEMBER not in members:
            raise CheckpointError(
                f"cannot migrate from {path!r}: a zip archive without a {POLICY_MEMBER!r} member "
                f"(members: {members[:10]}); {SUPPORTED}."
            )
        load_bounds.check_archive(archive, path)
        data = archive.read(POLICY_MEMBER)
    state_dict = load_weights_only(io.BytesIO(data), f"{path}:{POLICY_MEMBER}")
    if not isinstance(state_dict, dict) or not all(torch.is_tensor(value) for value in state_dict.values()):
        raise CheckpointError(
            f"cannot migrate from {path!r}: its {POLICY_MEMBER} holds a {type(state_dict).__name__} that "
            "is not a state dict (name -> tensor)."
        )
    return dict(state_dict)


def is_vec_normalize_file(path: str | os.PathLike) -> bool:
    """Whether a file looks like a ``VecNormalize`` pickle (a raw pickle naming that class)."""
    with open(path, "rb") as stream:
        head = stream.read(4096)
    return head[:1] == b"\x80" and b"VecNormalize" in head


def read_vec_normalize(path: str | os.PathLike) -> VecNormalizeStatistics:
    """The observation statistics of a ``VecNormalize.save`` pickle, read without running its code.

    Raises:
        CheckpointError: the file is not a readable pickle of a ``VecNormalize`` with array statistics
            (for example dict observations, whose statistics are per key).
    """
    path = os.fspath(path)
    with open(path, "rb") as stream:
        data = stream.read()
    risky = [name for name in pickle_globals(data) if is_code_running(name)]
    if risky:  # inert, it would do nothing; but such a file is hostile or damaged: name what it holds
        raise CheckpointError(refusal_message(path, risky[0]))
    try:
        wrapper = inert_load(data)
    except Exception as error:  # a damaged pickle raises many kinds (KeyError, struct.error, ...)
        raise CheckpointError(
            f"{path!r} is not a readable VecNormalize pickle (corrupted, truncated or another format?): "
            f"{cause(error)}"
        ) from error
    if not isinstance(wrapper, Inert) or not wrapper.qualified_name.endswith("VecNormalize"):
        raise CheckpointError(
            f"{path!r} holds {short_repr(wrapper)}, not a stable-baselines3 VecNormalize (saved with "
            "VecNormalize.save)"
        )
    statistics = wrapper.attribute("obs_rms")
    mean, var = _attribute(statistics, "mean"), _attribute(statistics, "var")
    if not isinstance(mean, np.ndarray) or not isinstance(var, np.ndarray):
        raise CheckpointError(
            f"{path!r}: VecNormalize.obs_rms is {short_repr(statistics)}, not one RunningMeanStd with "
            "array mean/var (dict observation spaces keep one per key; they are not supported)."
        )
    return VecNormalizeStatistics(
        mean=mean.astype(np.float64),
        var=var.astype(np.float64),
        count=float(_attribute(statistics, "count", 0.0)),
        epsilon=float(wrapper.attribute("epsilon", 1e-8)),
        clip_obs=float(wrapper.attribute("clip_obs", 10.0)),
        norm_obs=bool(wrapper.attribute("norm_obs", True)),
    )


def _attribute(value: Any, name: str, default: Any = None) -> Any:
    return value.attribute(name, default) if isinstance(value, Inert) else default
