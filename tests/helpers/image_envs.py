"""`GridGoalImages`: a tiny image-observation task, a batched numpy gymnasium VectorEnv.

Each env is a `size` x `size` grid holding an agent and a goal at random distinct cells. The
observation is a uint8 (2, size, size) image: channel 0 is 255 at the agent's cell, channel 1 at
the goal's. Actions 0-3 move the agent up, down, left, right (walls stop it). Reaching the goal
gives reward 1 and ends the episode (terminated); otherwise the reward is 0 and the episode is
truncated after `max_steps` steps. A policy that reads the image reaches the goal by the shortest
path (at most 2·(size − 1) steps); one that cannot see it succeeds only by chance.

The env resets ended episodes in the step that ends them (`AutoresetMode.SAME_STEP`) and hands
their true final observations over in ``infos["final_obs"]`` (masked by ``infos["_final_obs"]``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])


class GridGoalImages(VectorEnv):
    """``num_envs`` grid worlds observed as (2, size, size) uint8 images (module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int, size: int = 5, max_steps: int = 12, seed: int | None = None) -> None:
        self.num_envs = num_envs
        self.size = size
        self.max_steps = max_steps
        self.single_observation_space = spaces.Box(0, 255, (2, size, size), dtype=np.uint8)
        self.single_action_space = spaces.Discrete(4)
        self.observation_space = spaces.Box(0, 255, (num_envs, 2, size, size), dtype=np.uint8)
        self.action_space = spaces.MultiDiscrete([4] * num_envs)
        self._rng = np.random.default_rng(seed)
        self.agents = np.zeros((num_envs, 2), dtype=np.int64)
        self.goals = np.zeros((num_envs, 2), dtype=np.int64)
        self.steps = np.zeros(num_envs, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        """New episodes in every env."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._new_episodes(np.ones(self.num_envs, dtype=bool))
        return self._images(), {}

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict]:
        """Move every agent; ended envs start a new episode at once (SAME_STEP)."""
        moves = MOVES[np.asarray(actions, dtype=np.int64).reshape(-1)]
        self.agents = np.clip(self.agents + moves, 0, self.size - 1)
        self.steps += 1
        terminated = np.all(self.agents == self.goals, axis=1)
        truncated = ~terminated & (self.steps >= self.max_steps)
        rewards = terminated.astype(np.float32)
        done = terminated | truncated
        infos: dict[str, Any] = {}
        if done.any():
            final = self._images()
            infos["final_obs"] = np.array(
                [final[i] if done[i] else None for i in range(self.num_envs)], dtype=object
            )
            infos["_final_obs"] = done
            self._new_episodes(done)
        return self._images(), rewards, terminated, truncated, infos

    def _new_episodes(self, mask: np.ndarray) -> None:
        count = int(mask.sum())
        cells = self.size * self.size
        agent = self._rng.integers(0, cells, count)
        goal = (agent + self._rng.integers(1, cells, count)) % cells  # never the agent's cell
        self.agents[mask] = np.stack([agent // self.size, agent % self.size], axis=1)
        self.goals[mask] = np.stack([goal // self.size, goal % self.size], axis=1)
        self.steps[mask] = 0

    def _images(self) -> np.ndarray:
        images = np.zeros((self.num_envs, 2, self.size, self.size), dtype=np.uint8)
        rows = np.arange(self.num_envs)
        images[rows, 0, self.agents[:, 0], self.agents[:, 1]] = 255
        images[rows, 1, self.goals[:, 0], self.goals[:, 1]] = 255
        return images
