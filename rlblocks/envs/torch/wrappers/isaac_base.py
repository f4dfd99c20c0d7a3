"""`IsaacWrapper`: the base of the NVIDIA Isaac wrappers (Isaac Gym, Omniverse Isaac Gym, Orbit, Lab).

These simulators are batched, live on a device and auto-reset: the env resets the envs whose
episode ended by itself (within the step, or at the start of the next one). Their tensors are used
as they are (only reshaped to rows, and converted where the dtype differs: float32 observations
and rewards, bool flags), and `reset()` calls the env only the first time; afterwards it returns
the observations of the last step (`is_reset_free`), which are those to act on.

Time-outs: where the env reports them (`extras["time_outs"]`, Isaac Lab's `truncated`), the envs
that timed out are reported as truncated and not as terminated, so agents bootstrap there.

The wrappers are tested against small torch fakes of each package's documented step/reset contract
(`tests/helpers/isaac_fakes.py`): contract tests, not runs of the real simulators, which need an
NVIDIA GPU and are not installable from the package registries.
"""

from __future__ import annotations

from typing import Any

import torch

from rlblocks.envs.torch.wrappers.base import Wrapper, _env_attribute


def env_device(env: Any) -> Any:
    """The device of the env's RL tensors: `rl_device` (Isaac Gym), else `device`, else cpu."""
    return _env_attribute(env, "rl_device") or _env_attribute(env, "device") or "cpu"


def split_time_outs(dones: torch.Tensor, time_outs: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(terminated, truncated) from an env's done flags and time-out flags (None: no time-outs known).

    An env that timed out is truncated, not terminated; the others that are done terminated.
    """
    dones = dones.to(torch.bool)
    if time_outs is None:
        return dones, torch.zeros_like(dones)
    time_outs = time_outs.to(torch.bool).reshape(dones.shape) & dones
    return dones & ~time_outs, time_outs


class IsaacWrapper(Wrapper):
    """Base of the Isaac wrappers: cached reset, tensors as they are; see the module docstring.

    Subclasses implement `_reset_env() -> observations` and
    `_step_env(actions) -> (observations, rewards, terminated, truncated, infos)`, and may set
    `self._critic_states` (the privileged observations returned by `state()`).

    Args:
        env: the environment.
        device: where the tensors are put (default: the env's `rl_device`, else `device`).
    """

    def __init__(self, env: Any, device: str | torch.device | None = None) -> None:
        super().__init__(env, env_device(env) if device is None else device)
        self.num_envs = int(_env_attribute(env, "num_envs"))
        self.is_reset_free = True
        self._to_act_on: tuple[torch.Tensor, Any] | None = None
        self._critic_states: torch.Tensor | None = None

    def reset(self) -> tuple[torch.Tensor, Any]:
        """Observations to act on (num_envs, obs_size) and infos; the env is reset only the first time."""
        if self._to_act_on is None:
            self._to_act_on = (self._rows(self._reset_env(), torch.float32), {})
        return self._to_act_on

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
        """Apply (num_envs, A) actions.

        Returns:
            (next_states float32 (N, obs_size), rewards float32 (N, 1), terminated bool (N, 1),
            truncated bool (N, 1), the env's extras). For envs that ended, next_states are what the
            env returned: see each wrapper's docstring for whether that is the final observation.
        """
        observations, rewards, terminated, truncated, infos = self._step_env(actions)
        states = self._rows(observations, torch.float32)
        self._to_act_on = (states, infos)
        return (
            states,
            self._rows(rewards, torch.float32),
            self._rows(terminated, torch.bool),
            self._rows(truncated, torch.bool),
            infos,
        )

    def state(self) -> torch.Tensor | None:
        """The privileged (critic) observations of the last reset or step, (N, state_size), if any."""
        if self._critic_states is None:
            return None
        return self._rows(self._critic_states, torch.float32)

    def render(self, *args: Any, **kwargs: Any) -> None:
        """Nothing: these simulators render in their own viewer."""
        return None

    def close(self) -> None:
        """Nothing (the simulator is closed with its application)."""
        return None

    def _reset_env(self) -> torch.Tensor:
        raise NotImplementedError

    def _step_env(self, actions: torch.Tensor) -> tuple[Any, Any, Any, Any, Any]:
        raise NotImplementedError

    def _rows(self, tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """`tensor` as (N, -1) of `dtype` on the wrapper's device (itself or a view when it can be)."""
        if tensor.dtype != dtype or tensor.device != self.device:
            tensor = tensor.to(self.device, dtype)
        return tensor.reshape(self.num_envs, -1)
