"""`NonFiniteGuard`: NaN or inf from the environment, or in a loss, stops training with a clear error.

A NaN observation or reward, or a loss that overflows (rewards of 1e38 square to inf), would make
every parameter NaN within one update; training would go on and write NaN checkpoints. The guard
checks without waiting for the device at every step:

- `watch` keeps, per environment and value, a sum that stays finite until a non-finite value
  arrives: on CPU the raw values are added into float32 sums (two or three in-place additions a
  step; finite values so large that they overflow float32, 1e38, are caught too); on CUDA
  ``x - x`` (0 or NaN) is accumulated with the first step at which it was not 0;
- `OptimisationStep` asks `skips_step` before each optimizer step: on CUDA a non-finite loss
  skips the step on the device (fused Adam's ``found_inf``), so the parameters stay finite;
- `check` reads the flags on the host: on CPU the sums are numpy views (one numpy sum a step,
  exact: the step found is the step it happened), on CUDA an asynchronous copy to pinned memory
  read once it has landed (a step or two late, which the skipped optimizer steps make harmless);
  a checkpoint write waits for it.

In the default mode "raise", a non-finite value raises `NonFiniteError` naming the environment,
the step, the tensor, the environments' indices and a fix; in "warn-and-skip" the agent logs a
warning and does not learn from it (the step is not stored; the optimizer step is skipped).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from rlblocks import logger
from rlblocks.utils import distributed
from rlblocks.utils.host_flag import HostFlag

NON_FINITE_MODES = ("raise", "warn-and-skip")
"""The values of the agents' ``non_finite`` config key."""

_FIX = (
    "Fix the environment, or wrap it to clip or reset (e.g. gymnasium.wrappers.TransformObservation / "
    "TransformReward with np.nan_to_num or np.clip, or a wrapper that ends the episode); "
    'cfg["non_finite"] = "warn-and-skip" warns and skips such steps instead (for envs known to emit '
    "NaN at reset)."
)


class NonFiniteError(RuntimeError):
    """A NaN or inf arrived from the environment or appeared in a loss; the message says where."""


class NonFiniteGuard:
    """Watches the environment's data and the losses; raises `NonFiniteError` (or warns and skips).

    Args:
        mode: "raise" or "warn-and-skip" (the agents' ``non_finite`` config key).
        device: the agent's device.
        agent_name: the agent's class name, for messages.

    Attributes:
        source: how messages name the environment (the trainer sets it: id and wrapper).
        first_env: the index of the agent's first environment in the trainer's env (its scope).
        timestep: the last watched step.
        num_skipped: steps or optimizer steps skipped in "warn-and-skip" mode.
    """

    COLUMNS = ("states (observations)", "next_states (next observations)", "rewards")

    def __init__(self, mode: str, device: torch.device, agent_name: str) -> None:
        if mode not in NON_FINITE_MODES:
            raise ValueError(
                f'config key "non_finite" must be one of {", ".join(map(repr, NON_FINITE_MODES))}, got '
                f'{mode!r}; use "raise" (the default) or "warn-and-skip"'
            )
        self.mode = mode
        self.device = torch.device(device)
        self.agent_name = agent_name
        self.source = "the environment"
        self.first_env = 0
        self.timestep = 0
        self.num_skipped = 0
        self._poison: torch.Tensor | None = None
        self._sum_views: list[torch.Tensor] = []
        self._last_parts: tuple[torch.Tensor, ...] = ()
        self._host_poison: np.ndarray | None = None
        self._first_step: torch.Tensor | None = None
        self._widths: tuple[int, ...] = ()
        self._env_flag = HostFlag(self.device, True)
        self._loss_flags: dict[str, tuple[HostFlag, torch.Tensor]] = {}

    @property
    def is_skipping(self) -> bool:
        """Whether non-finite steps are skipped with a warning ("warn-and-skip") instead of raising."""
        return self.mode == "warn-and-skip"

    # ------------------------------------------------------------ environment data
    def watch(
        self,
        timestep: int,
        states: torch.Tensor,
        next_states: torch.Tensor,
        rewards: torch.Tensor,
        states_seen: bool = False,
    ) -> None:
        """Fold one step's (N, ·) tensors into the per-env, per-column flags, on their device.

        ``states_seen``: the states are the previous step's next states (no env was reset since),
        already watched, so CPU skips them.
        """
        self.timestep = timestep
        views = self._sum_views
        if views:  # CPU, the sums made for these shapes: the hot path, three additions at most
            try:
                if not states_seen:
                    views[0].add_(states)
                views[1].add_(next_states)
                views[2].add_(rewards)
                self._last_parts = (states, next_states, rewards)
                return
            except RuntimeError:  # another shape or device: make the sums again
                pass
        num_envs = rewards.shape[0] if rewards.dim() else 1
        parts = [
            tensor if tensor.dim() == 2 else tensor.reshape(num_envs, -1)
            for tensor in (states, next_states, rewards)
        ]
        if all(tensor.device.type == "cpu" for tensor in (states, next_states, rewards)):
            self._watch_on_host((states, next_states, rewards))
            return
        values = torch.cat(parts, dim=1)  # a new tensor
        if not values.is_floating_point():
            values = values.float()
        if self._poison is None or self._poison.shape != values.shape or self._poison.device != values.device:
            self._allocate(values, tuple(part.shape[1] for part in parts))
        # x - x is 0 for every finite x and NaN for NaN and ±inf: the sum stays 0 until one arrives
        # (two cheap element-wise operations; torch.isfinite alone costs more than both)
        self._poison.add_(values.sub_(values))
        if self._host_poison is None:  # CUDA: read later, so the step is kept on the device
            self._first_step.masked_fill_(self._poison == 0, timestep)
            torch.eq(self._poison.sum(), 0, out=self._env_flag.tensor)
            self._env_flag.publish()

    def _watch_on_host(self, tensors: tuple[torch.Tensor, ...]) -> None:
        """CPU: make float32 sums of the raw values, shaped like ``tensors``, that numpy reads, and add.

        A sum stays finite until a NaN or inf arrives, or until finite values so large (1e38)
        that adding them overflows float32, as the losses would; `has_non_finite_data` reads the
        sums after every step, so the step found is the step it happened. Two or three in-place
        additions a step: cheaper than any element-wise test.
        """
        sizes = [tensor.numel() for tensor in tensors]
        self._host_poison = np.zeros(sum(sizes), dtype=np.float32)
        self._poison = torch.from_numpy(self._host_poison)
        self._first_step = None
        bounds = np.cumsum((0, *sizes))
        self._sum_views = [
            self._poison[start:end].view(tensor.shape)
            for (start, end), tensor in zip(itertools.pairwise(bounds), tensors)
        ]
        for view, tensor in zip(self._sum_views, tensors):
            view.add_(tensor)
        self._last_parts = tensors

    def _allocate(self, values: torch.Tensor, widths: tuple[int, ...]) -> None:
        """The accumulators for ``values``' shape, on its device (the env's, which may not be the agent's)."""
        self._widths = widths
        shape, device = values.shape, values.device
        self._host_poison, self._sum_views = None, []
        self._poison = torch.zeros(shape, device=device)
        self._first_step = torch.zeros(shape, dtype=torch.int64, device=device)
        if self._env_flag.tensor.device != device:
            self._env_flag = HostFlag(device, True)

    def has_non_finite_data(self, wait: bool = False) -> bool:
        """Whether a watched value was not finite (CUDA: as far as the host knows, unless ``wait``)."""
        if self._poison is None:
            return False
        if self._host_poison is not None:  # float32 sums, added up without overflow in float64
            return not math.isfinite(self._host_poison.sum(dtype=np.float64))
        return not self._env_flag.read(wait)

    def check(self, wait: bool = False) -> bool:
        """Raise `NonFiniteError` (or warn, in "warn-and-skip") if a non-finite value was seen.

        Returns:
            True when something non-finite was found (and skipped); the flags start again.
        """
        host = self._host_poison
        # the hot path on CPU: one numpy sum (a float32 overflow of finite sums is looked at below),
        # and the losses there are reported by `skips_step` itself
        if host is not None and self.device.type == "cpu" and math.isfinite(host.sum()):
            return False
        found = False
        if self.has_non_finite_data(wait):
            message = self._data_message()
            self._poison.zero_()
            self._env_flag.set(True)
            self._report(message)
            found = True
        for name, (flag, _) in self._loss_flags.items():
            if not flag.read(wait):
                flag.set(True)
                self._report(self._loss_message(name))
                found = True
        return found

    def _bad_blocks(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        """Per watched tensor: (bad (N, w) bool, first step (N, w), this step's values (CPU) or None)."""
        if self._host_poison is not None:  # CPU: sums shaped like the tensors, found at this step
            blocks = []
            for view, part in zip(self._sum_views, self._last_parts):
                bad = ~torch.isfinite(view.reshape(view.shape[0] if view.dim() else 1, -1))
                blocks.append((bad, torch.full(bad.shape, self.timestep), part.detach().cpu()))
            return blocks
        bad, first_step = ~torch.isfinite(self._poison.cpu()), self._first_step.cpu()
        bounds = np.cumsum((0, *self._widths))
        return [(bad[:, a:b], first_step[:, a:b], None) for a, b in itertools.pairwise(bounds)]

    def _data_message(self) -> str:
        lines, overflows = [], []
        for name, (bad, first_step, part) in zip(self.COLUMNS, self._bad_blocks()):
            rows = bad.any(dim=1)
            if not rows.any():
                continue
            envs = f"environment(s) {_listed([self.first_env + i for i in torch.where(rows)[0].tolist()])}"
            step = int(first_step[bad].min())
            if part is not None and torch.isfinite(part).all():  # finite values whose sum overflowed
                largest = float(part.abs().max())
                overflows.append(f"{name} of {envs} (|value| up to {largest:.3g}) at timestep {step}")
            else:
                lines.append(f"{name} of {envs}, first at timestep {step}")
        text = f"{self.agent_name}: "
        if lines:
            text += f"non-finite values (NaN or inf) from {self.source} in {'; '.join(lines)}. "
        if overflows:
            text += (
                f"finite values from {self.source} so large that their sums overflow float32 in "
                f"{'; '.join(overflows)}; the losses (squares, returns) would overflow too: scale them "
                '(e.g. cfg["rewards_shaper"]) or clip them. '
            )
        return text + f"Learning from them would turn every parameter into NaN. {_FIX}"

    # ------------------------------------------------------------------ losses
    def add_optimizer(self, name: str) -> None:
        """Make the flags of optimizer ``name`` (at set-up: nothing is allocated while training)."""
        self._loss_flags[name] = (HostFlag(self.device, True), torch.zeros((), device=self.device))

    def skips_step(self, name: str, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> bool:
        """Whether to skip optimizer ``name``'s step because ``loss`` (detached; + grad norm) is not finite.

        On CPU the answer is read at once: "raise" mode raises here, before the step;
        "warn-and-skip" warns and returns True. On another device the step is skipped on the
        device instead (a fused Adam's ``found_inf``) and the check at the next step reports it.
        """
        flag, found_inf = self._loss_flags[name]
        is_finite = torch.isfinite(loss)
        if flag._pinned is None:
            torch.all(is_finite, out=flag.tensor)
            if flag.read():
                return False
            self._report(self._loss_message(name))
            flag.set(True)
            return True
        flag.tensor.logical_and_(is_finite)
        flag.publish()
        if optimizer.defaults.get("fused"):
            found_inf.copy_(~is_finite)
            optimizer.found_inf = found_inf  # read by torch's fused Adam: 1 skips the step
        return False

    def _loss_message(self, name: str) -> str:
        return (
            f"{self.agent_name}: the loss of {name!r} is not finite (NaN or inf) near timestep "
            f"{self.timestep} (env: {self.source}); the optimizer step was not taken. Usual causes: "
            "rewards or observations so large that their squares or sums overflow float32 (e.g. 1e38: "
            'scale them with cfg["rewards_shaper"] or a wrapper, or clip them), or a learning rate too '
            f"large. {_FIX}"
        )

    # ---------------------------------------------------------------- reporting
    def _report(self, message: str) -> None:
        if not self.is_skipping:
            raise NonFiniteError(message)
        self.num_skipped += 1
        if _is_power_of_ten(self.num_skipped):
            logger.warning(f"{message} (skipped; {self.num_skipped} skipped so far)")


class _FiniteRowsOnly:
    """A state preprocessor for "warn-and-skip" mode (see `finite_rows_only`)."""

    def __init__(self, preprocessor: Any) -> None:
        self.preprocessor = preprocessor

    def __call__(self, x: torch.Tensor, train: bool = False, inverse: bool = False) -> torch.Tensor:
        if inverse:
            return self.preprocessor(x, train=train, inverse=inverse)
        is_finite_row = torch.isfinite(x.reshape(x.shape[0], -1)).all(dim=1)
        if is_finite_row.all():  # a read per call: "warn-and-skip" mode only
            return self.preprocessor(x, train=train)
        # under torchrun a training call is a collective (pooled statistics): it is made, even empty
        if train and (is_finite_row.any() or distributed.is_distributed()):
            self.preprocessor(x[is_finite_row], train=True)
        return torch.nan_to_num(self.preprocessor(x), nan=0.0, posinf=0.0, neginf=0.0)

    def __getattr__(self, name: str) -> Any:
        if name == "preprocessor":  # not set yet (copying)
            raise AttributeError(name)
        return getattr(self.preprocessor, name)


def finite_rows_only(preprocessor: Any) -> Any:
    """``preprocessor`` that learns from the finite rows only and puts 0 where its output is not finite.

    For "warn-and-skip" mode: the state preprocessor is trained in ``act``, before the step is
    checked, and one NaN observation would turn its running statistics into NaN for good; and a
    policy acting on NaN would send NaN actions to the env (a Pendulum's state then stays NaN).
    """
    return _FiniteRowsOnly(preprocessor)


def _is_power_of_ten(count: int) -> bool:
    return str(count).rstrip("0") == "1"


def _listed(indices: list[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, indices[:limit]))
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def env_description(env: Any) -> str:
    """How messages name ``env``: the gymnasium id (when one is found) and the wrapper's class."""
    inner, env_id = env, None
    for _ in range(16):
        spec = getattr(inner, "spec", None)
        env_id = getattr(spec, "id", None)
        if env_id is None and getattr(inner, "envs", None):
            env_id = getattr(getattr(inner.envs[0], "spec", None), "id", None)
        if env_id is not None:
            break
        inner = getattr(inner, "_env", None) or getattr(inner, "env", None)
        if inner is None:
            break
    name = type(env).__name__
    return f"{env_id!r} ({name})" if env_id else name


def describe_env_to(agent: Any, env: Any, first_env: int = 0) -> None:
    """Tell ``agent``'s guard (if it has one) how to name ``env`` and where its envs start."""
    guard = getattr(agent, "non_finite", None)
    if isinstance(guard, NonFiniteGuard):
        guard.source = env_description(env)
        guard.first_env = first_env
