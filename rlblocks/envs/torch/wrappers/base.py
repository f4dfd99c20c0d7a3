"""`Wrapper`: the environment interface agents and trainers use, whatever the simulator.

Every wrapper speaks torch, one row per environment:

- `reset() -> (states, infos)`: states (num_envs, flat_size(observation_space)).
- `step(actions) -> (next_states, rewards, terminated, truncated, infos)`: rewards float32
  (num_envs, 1); terminated and truncated bool (num_envs, 1).

States are float32, except for a Discrete observation space, whose index is an int64 column
(see `conversions`). The spaces are those of **one** environment, also for vector envs.

The autoreset contract of vectorised wrappers: `step` returns, for an environment whose episode
just ended, its true final observation in `next_states`; the wrapper has already reset that
environment, and the next `reset()` returns the observations to act on (the reset observation for
the envs that ended, the current one for the others) without touching the env again. A trainer
therefore does::

    next_states, rewards, terminated, truncated, infos = env.step(actions)
    ...record (states, actions, rewards, next_states, terminated, truncated)...
    states = env.reset()[0] if (terminated | truncated).any() else next_states

Two attributes let a trainer skip that last test, a host synchronisation on a GPU:
`any_episode_ended` (set by `step`: whether an episode ended, when the wrapper knows it on the
host from the env's own flags; None when it does not) and `is_reset_free` (True when, after the
first reset, `reset()` only returns the kept observations to act on, so calling it after every
step costs nothing).
"""

from __future__ import annotations

from typing import Any

import torch

_MISSING = object()


def _env_attribute(env: Any, name: str, default: Any = None) -> Any:
    """`env.<name>`, else the attribute of the env inside its gymnasium wrappers, else `default`."""
    if hasattr(env, name):
        return getattr(env, name)
    if hasattr(env, "get_wrapper_attr"):
        try:
            return env.get_wrapper_attr(name)
        except AttributeError:
            pass
    return default


class Wrapper:
    """Base class of the environment wrappers; `__getattr__` forwards to the wrapped env.

    Args:
        env: the environment to wrap.
        device: where the tensors are put; defaults to `env.device` if the env has one, else cpu.
    """

    def __init__(self, env: Any, device: str | torch.device | None = None) -> None:
        self._env = env
        if device is None:
            device = _env_attribute(env, "device") or "cpu"
        self.device = torch.device(device)
        self.num_envs: int = int(getattr(env, "num_envs", 1))
        self.any_episode_ended: bool | None = None
        self.is_reset_free = False

    def __getattr__(self, key: str) -> Any:
        """The attribute of the wrapped environment (or of the env inside its gymnasium wrappers)."""
        if key == "_env":  # not set yet (e.g. while unpickling): avoid infinite recursion
            raise AttributeError(key)
        env = self._env
        value = _env_attribute(env, key, default=_MISSING)
        if value is not _MISSING:
            return value
        raise AttributeError(
            f"Wrapped environment ({type(env).__name__}) does not have attribute '{key}'; "
            f"{type(self).__name__} offers reset, step, render, close, num_envs, device, "
            "observation_space, action_space and state_space."
        )

    @property
    def env(self) -> Any:
        """The wrapped environment."""
        return self._env

    @property
    def observation_space(self) -> Any:
        """The observation space of one environment."""
        return self._env.observation_space

    @property
    def action_space(self) -> Any:
        """The action space of one environment."""
        return self._env.action_space

    @property
    def state_space(self) -> Any:
        """The env's `state_space` if it has one, else the observation space."""
        state_space = getattr(self._env, "state_space", None)
        return self.observation_space if state_space is None else state_space

    def reset(self) -> tuple[torch.Tensor, Any]:
        """Observations to act on, (num_envs, flat_size), and the reset infos."""
        raise NotImplementedError(f"{type(self).__name__} does not implement reset()")

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
        """Apply one (num_envs, A) batch of actions; see the module docstring for the outputs."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the environment (whatever the wrapped env's `render` returns)."""
        return self._env.render(*args, **kwargs)

    def close(self) -> None:
        """Close the environment."""
        self._env.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._env!r}, num_envs={self.num_envs}, device={self.device})"
