"""`IsaacLabWrapper`: Isaac Lab envs (`isaaclab.envs.DirectRLEnv`, `ManagerBasedRLEnv`; gymnasium envs).

Contract (Isaac Lab 2.x; tested against a torch fake, not the real simulator, see `isaac_base`):
`reset() -> (obs_dict, extras)`; `step(actions) -> (obs_dict, rew, terminated, truncated, extras)`,
tensors batched on `env.device`, `terminated` (N,) the terminal states and `truncated` (N,) the
time-outs (`extras["time_outs"]` repeats them). Observations are grouped: `obs_dict["policy"]`
(N, obs_size) for the policy and, for asymmetric actor-critic tasks, `obs_dict["critic"]`
(returned by `state()`; `state_space` is then `single_observation_space["critic"]`). Spaces are
those of one env: `single_observation_space["policy"]` and `single_action_space`. Isaac Lab resets
ended envs within the step, so the observations returned for them are the reset ones (the final
observation is not returned).

Not in skrl 0.10 (Isaac Lab came later; its skrl wrapper is 1.x's "isaaclab").
"""

from __future__ import annotations

from typing import Any

import torch

from rlblocks.envs.torch.wrappers.isaac_base import IsaacWrapper

ISAACLAB_MODULES = ("isaaclab", "omni.isaac.lab")
"""Modules of Isaac Lab's env classes (Isaac Lab 2.x; 1.x was `omni.isaac.lab`)."""


def is_isaaclab_env(env: Any) -> bool:
    """Whether `env` (or the env inside its gymnasium wrappers) is an Isaac Lab env."""
    base = getattr(env, "unwrapped", env)
    return any(
        klass.__module__ == name or klass.__module__.startswith(name + ".")
        for klass in type(base).__mro__
        for name in ISAACLAB_MODULES
    )


class IsaacLabWrapper(IsaacWrapper):
    """Wraps an Isaac Lab env; see the module docstring."""

    @property
    def observation_space(self) -> Any:
        """The "policy" observations of one env."""
        return _single(self._env, "observation")["policy"]

    @property
    def action_space(self) -> Any:
        """The action space of one env."""
        return _single(self._env, "action")

    @property
    def state_space(self) -> Any:
        """The "critic" observations of one env if the env has them, else the observation space."""
        spaces = _single(self._env, "observation")
        return spaces["critic"] if "critic" in spaces.spaces else self.observation_space

    def _reset_env(self) -> torch.Tensor:
        observation_dict, _ = self._env.reset()
        return self._observations(observation_dict)

    def _step_env(self, actions: torch.Tensor) -> tuple[Any, Any, Any, Any, Any]:
        observation_dict, rewards, terminated, truncated, extras = self._env.step(actions)
        return self._observations(observation_dict), rewards, terminated, truncated, extras

    def _observations(self, observation_dict: dict[str, torch.Tensor]) -> torch.Tensor:
        self._critic_states = observation_dict.get("critic")
        return observation_dict["policy"]

    def close(self) -> None:
        """Close the env (and its simulation app)."""
        self._env.close()


def _single(env: Any, kind: str) -> Any:
    """The env's `single_<kind>_space` (through gymnasium wrappers), else its `<kind>_space`."""
    base = getattr(env, "unwrapped", env)
    space = getattr(base, f"single_{kind}_space", None)
    return getattr(base, f"{kind}_space") if space is None else space
