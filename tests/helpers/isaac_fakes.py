"""Torch fakes of the NVIDIA Isaac envs' step/reset contracts (the real packages need an NVIDIA GPU).

Each fake follows one package's documented API: batched torch tensors on the env's device, its own
done/time-out conventions and its own reset timing, around one shared task, `CounterTask`.
The class names and modules of the fakes are those `wrap_env` recognises (``isaacgymenvs``,
``rlgpu``, ``omni.isaac.gym``, Orbit's gym env with `sim`/`env_ns`, ``isaaclab``).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch


class CounterTask:
    """`num_envs` envs counting their steps.

    Observation (N, 2) float32: [steps taken in the episode, env index]; privileged "critic" state
    (N, 3): [count, index, 10 * count]. Reward = the sum of the env's action row. Env i terminates
    when its count reaches `terminate_at[i]` (0: never) and times out when it reaches
    `max_episode_length` without terminating.
    """

    def __init__(self, num_envs: int = 3, max_episode_length: int = 4, terminate_at: tuple = (2, 0, 0)):
        self.num_envs = num_envs
        self.max_episode_length = max_episode_length
        self.terminate_at = torch.as_tensor(terminate_at)
        self.count = torch.zeros(num_envs, dtype=torch.long)
        self.resets = 0  # calls of reset_envs, whole or partial
        self.actions: list[torch.Tensor] = []

    def observations(self) -> torch.Tensor:
        return torch.stack([self.count.float(), torch.arange(self.num_envs).float()], dim=1)

    def critic_states(self) -> torch.Tensor:
        return torch.cat([self.observations(), 10 * self.count.float()[:, None]], dim=1)

    def advance(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step of every env: (rewards (N,), terminated (N,) bool, time_outs (N,) bool)."""
        self.actions.append(actions)
        self.count += 1
        terminated = (self.count == self.terminate_at) & (self.terminate_at > 0)
        time_outs = (self.count >= self.max_episode_length) & ~terminated
        return actions.sum(dim=-1), terminated, time_outs

    def reset_envs(self, mask: torch.Tensor | None = None) -> None:
        self.resets += 1
        self.count[slice(None) if mask is None else mask] = 0


def _boxes(task: CounterTask) -> dict[str, gymnasium.spaces.Box]:
    return {
        "observation_space": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32),
        "action_space": gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32),
        "state_space": gymnasium.spaces.Box(-np.inf, np.inf, (3,), np.float32),
    }


class _IsaacGymTask:
    """Isaac Gym's reset timing: envs flagged in `reset_buf` are reset at the start of the next step,
    so the observation returned with `reset_buf = 1` is the final one."""

    def __init__(self, task: CounterTask | None = None) -> None:
        self.task = task or CounterTask()
        self.num_envs = self.task.num_envs
        self.device = "cuda:0"  # the sim device; the RL tensors live on rl_device
        self.rl_device = "cpu"
        for name, space in _boxes(self.task).items():
            setattr(self, name, space)
        self.reset_buf = torch.zeros(self.num_envs, dtype=torch.long)
        self.closed = False

    def _advance(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.reset_buf.any():
            self.task.reset_envs(self.reset_buf.bool())
        rewards, terminated, time_outs = self.task.advance(actions)
        self.reset_buf = (terminated | time_outs).long()
        return rewards, self.reset_buf, time_outs.long()

    def close(self) -> None:
        self.closed = True


class VecTaskPython(_IsaacGymTask):
    """Isaac Gym preview 2 (`rlgpu`): `reset() -> obs`, `step -> (obs, rew, reset_buf, extras)`."""

    def reset(self) -> torch.Tensor:
        self.task.reset_envs()
        return self.task.observations()

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        rewards, dones, _ = self._advance(actions)
        return self.task.observations(), rewards, dones, {}


VecTaskPython.__module__ = "rlgpu.tasks.base.vec_task"


class VecTask(_IsaacGymTask):
    """Isaac Gym preview 3/4 (`isaacgymenvs`): obs_dict {"obs", "states"}, `extras["time_outs"]`."""

    def reset(self) -> dict[str, torch.Tensor]:
        self.task.reset_envs()
        return self._observation_dict()

    def step(self, actions: torch.Tensor) -> tuple[dict, torch.Tensor, torch.Tensor, dict]:
        rewards, dones, time_outs = self._advance(actions)
        return self._observation_dict(), rewards, dones, {"time_outs": time_outs}

    def _observation_dict(self) -> dict[str, torch.Tensor]:
        return {"obs": self.task.observations(), "states": self.task.critic_states()}


VecTask.__module__ = "isaacgymenvs.tasks.base.vec_task"


class VecEnvBase:
    """Omniverse Isaac Gym's base class (its module is the one `wrap_env` looks for)."""


VecEnvBase.__module__ = "omni.isaac.gym.vec_env.vec_env_base"


class VecEnvRLGames(VecTask, VecEnvBase):
    """Omniverse Isaac Gym (OmniIsaacGymEnvs): preview 3's contract on `device`."""

    def __init__(self, task: CounterTask | None = None) -> None:
        super().__init__(task)
        self.device = "cpu"
        del self.rl_device


class VecEnvMT(VecEnvRLGames):
    """The multi-threaded Omniverse env: `run(trainer)` runs the trainer (here, in this thread)."""

    def run(self, trainer: Any = None) -> None:
        self.ran_with = trainer


class _GymEnv:
    """Stands for legacy `gym.Env` (Orbit's envs derive from it)."""


_GymEnv.__module__ = "gym.core"


class OrbitEnv(_GymEnv):
    """Isaac Orbit's `IsaacEnv`: obs_dict {"policy", "critic"}, `extras["time_outs"]`, resets in the step."""

    def __init__(self, task: CounterTask | None = None) -> None:
        self.task = task or CounterTask()
        self.num_envs = self.task.num_envs
        self.device = "cpu"
        self.sim, self.env_ns = object(), "/World/envs"
        for name, space in _boxes(self.task).items():
            setattr(self, name, space)
        self.closed = False

    def reset(self) -> dict[str, torch.Tensor]:
        self.task.reset_envs()
        return self._observation_dict()

    def step(self, actions: torch.Tensor) -> tuple[dict, torch.Tensor, torch.Tensor, dict]:
        rewards, terminated, time_outs = self.task.advance(actions)
        dones = terminated | time_outs
        if dones.any():
            self.task.reset_envs(dones)
        return self._observation_dict(), rewards, dones.long(), {"time_outs": time_outs}

    def _observation_dict(self) -> dict[str, torch.Tensor]:
        return {"policy": self.task.observations(), "critic": self.task.critic_states()}

    def close(self) -> None:
        self.closed = True


class DirectRLEnv(gymnasium.Env):
    """Isaac Lab's env: `reset() -> (obs_dict, extras)`, 5-tuple steps, reset within the step.

    `single_observation_space` is a Dict {"policy", "critic"} (without "critic" if `critic=False`).
    """

    def __init__(self, task: CounterTask | None = None, critic: bool = True) -> None:
        self.task = task or CounterTask()
        self.num_envs = self.task.num_envs
        self.device = "cpu"
        boxes = _boxes(self.task)
        groups = {"policy": boxes["observation_space"]}
        if critic:
            groups["critic"] = boxes["state_space"]
        self.critic = critic
        self.single_observation_space = gymnasium.spaces.Dict(groups)
        self.single_action_space = boxes["action_space"]
        self.observation_space = gymnasium.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.closed = False

    def reset(self, *, seed: Any = None, options: Any = None) -> tuple[dict, dict]:
        self.task.reset_envs()
        return self._observation_dict(), {}

    def step(self, actions: torch.Tensor) -> tuple[dict, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        rewards, terminated, time_outs = self.task.advance(actions)
        dones = terminated | time_outs
        if dones.any():
            self.task.reset_envs(dones)
        return self._observation_dict(), rewards, terminated, time_outs, {"time_outs": time_outs}

    def _observation_dict(self) -> dict[str, torch.Tensor]:
        groups = {"policy": self.task.observations()}
        if self.critic:
            groups["critic"] = self.task.critic_states()
        return groups

    def close(self) -> None:
        self.closed = True


DirectRLEnv.__module__ = "isaaclab.envs.direct_rl_env"
