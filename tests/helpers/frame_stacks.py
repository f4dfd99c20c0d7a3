"""Recorded trajectories of gymnasium's own ``FrameStackObservation`` over random uint8 frames.

`NoiseFrames` draws a random frame per step and terminates with probability 0.15; each env is
truncated by ``TimeLimit`` (5, 6, ... steps for env 0, 1, ...), so a trajectory holds both kinds
of episode end. `record` steps the envs as the env wrappers hand transitions over: an ended env
gives its true final observation as next state and is reset in the same step, its reset
observation being the next step's state.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

Step = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""(states, next_states, actions (N, 1) int64, rewards (N, 1), terminated (N, 1), truncated (N, 1))."""


class NoiseFrames(gymnasium.Env):
    """Random uint8 frames of ``shape``; two actions; terminates with probability 0.15 per step."""

    action_space = spaces.Discrete(2)

    def __init__(self, shape: tuple[int, int] = (6, 5)) -> None:
        self.shape = shape
        self.observation_space = spaces.Box(0, 255, shape, dtype=np.uint8)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.np_random.integers(0, 256, self.shape, dtype=np.uint8), {}

    def step(self, action):
        frame = self.np_random.integers(0, 256, self.shape, dtype=np.uint8)
        return frame, float(action), bool(self.np_random.random() < 0.15), False, {}


def record(
    num_envs: int, steps: int, stack: int, seed: int = 0, shape: tuple[int, int] = (6, 5)
) -> list[Step]:
    """``steps`` transitions of ``num_envs`` `NoiseFrames` envs under ``FrameStackObservation(stack)``."""
    envs = []
    for index in range(num_envs):
        env = gymnasium.wrappers.TimeLimit(NoiseFrames(shape), max_episode_steps=5 + index)
        envs.append(gymnasium.wrappers.FrameStackObservation(env, stack) if stack > 1 else env)
    observations = [env.reset(seed=seed + index)[0] for index, env in enumerate(envs)]
    generator = np.random.default_rng(seed)
    trajectory = []
    for _ in range(steps):
        actions = generator.integers(0, 2, num_envs)
        states = torch.as_tensor(np.stack(observations))
        finals, ends = [], []
        for index, env in enumerate(envs):
            observation, _, terminated, truncated, _ = env.step(int(actions[index]))
            finals.append(observation)
            ends.append((terminated, truncated))
            observations[index] = env.reset()[0] if terminated or truncated else observation
        flags = torch.tensor(ends).view(num_envs, 2)
        trajectory.append(
            (
                states,
                torch.as_tensor(np.stack(finals)),
                torch.as_tensor(actions).view(num_envs, 1),
                torch.as_tensor(actions, dtype=torch.float32).view(num_envs, 1) * 0.5,
                flags[:, :1].clone(),
                flags[:, 1:].clone(),
            )
        )
    return trajectory
