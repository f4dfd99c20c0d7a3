"""`IsaacOrbitWrapper`: Isaac Orbit envs (`omni.isaac.orbit_envs`, a gym.Env with `sim` and `env_ns`).

Contract (Orbit 0.1/0.2 `IsaacEnv`; tested against a torch fake, not the real simulator, see
`isaac_base`): `reset() -> obs_dict`; `step(actions) -> (obs_dict, rew, dones, extras)`, tensors
batched on the env's `device`, observations in `obs_dict["policy"]` (privileged ones, if the env
has a "critic" group, in `obs_dict["critic"]`, returned by `state()`), `extras["time_outs"]`
flagging the envs reset by the episode-length limit, reported as truncations. Orbit resets ended
envs within the step, so the observations returned for them are the reset ones (the final
observation is not returned).

Differs from skrl 0.10: time-outs are truncations (skrl: never truncated).
"""

from __future__ import annotations

from typing import Any

import torch

from rlblocks.envs.torch.wrappers.isaac_base import IsaacWrapper, split_time_outs


def is_isaac_orbit_env(env: Any) -> bool:
    """Whether `env` is an Orbit env: skrl 0.10's test, an env with `sim` and `env_ns` attributes."""
    return hasattr(env, "sim") and hasattr(env, "env_ns")


class IsaacOrbitWrapper(IsaacWrapper):
    """Wraps an Isaac Orbit env; see the module docstring."""

    def _reset_env(self) -> torch.Tensor:
        return self._observations(self._env.reset())

    def _step_env(self, actions: torch.Tensor) -> tuple[Any, Any, Any, Any, Any]:
        observation_dict, rewards, dones, extras = self._env.step(actions)
        time_outs = extras.get("time_outs") if isinstance(extras, dict) else None
        return (self._observations(observation_dict), rewards, *split_time_outs(dones, time_outs), extras)

    def _observations(self, observation_dict: dict[str, torch.Tensor]) -> torch.Tensor:
        self._critic_states = observation_dict.get("critic")
        return observation_dict["policy"]

    def close(self) -> None:
        """Close the env (and its simulation app)."""
        self._env.close()
