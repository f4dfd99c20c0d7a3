"""Tiny deterministic gymnasium environments shared by the tests.

Each env is small, fast, has no randomness beyond what its docstring states, and is defined at
module level so that `AsyncVectorEnv` worker processes can import it. Add new envs here with a
docstring stating their observation, action, reward and episode end.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np


class CounterEnv(gymnasium.Env):
    """Observation = number of steps taken in the episode, as a (1,) float32 Box.

    `reset()` gives `[0.0]` (or `[start]`); each step adds 1 whatever the action, so in every real
    transition `next_observation == observation + 1`. Reward = the action taken (Discrete(2): 0 or 1),
    which lets a test check that actions reach the env. The episode is truncated when the count
    reaches `max_steps` and terminated when it reaches `terminate_at` (if given, and earlier).
    `info["count"]` repeats the count.
    """

    def __init__(self, max_steps: int = 5, terminate_at: int | None = None, start: int = 0):
        self.max_steps = max_steps
        self.terminate_at = terminate_at
        self.start = start
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.count = start
        self.num_resets = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.count = self.start
        self.num_resets += 1
        return self._observation(), {"count": self.count}

    def step(self, action):
        self.count += 1
        steps = self.count - self.start
        terminated = self.terminate_at is not None and steps >= self.terminate_at
        truncated = not terminated and steps >= self.max_steps
        return self._observation(), float(action), terminated, truncated, {"count": self.count}

    def _observation(self) -> np.ndarray:
        return np.array([self.count], dtype=np.float32)


class DictObservationEnv(gymnasium.Env):
    """Dict observation {"position": Box (2,), "mode": Discrete(3)} driven by a step counter t.

    position = [t, -t] (float32), mode = t % 3; flattened in sorted key order a row reads
    `[t % 3, t, -t]`. Action: Box(-1, 1, (2,)); reward = sum of the action. Truncated after
    `max_steps` steps; never terminated.
    """

    def __init__(self, max_steps: int = 4):
        self.max_steps = max_steps
        self.observation_space = gymnasium.spaces.Dict(
            {
                "position": gymnasium.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32),
                "mode": gymnasium.spaces.Discrete(3),
            }
        )
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self._observation(), {}

    def step(self, action):
        self.t += 1
        reward = float(np.sum(action))
        return self._observation(), reward, False, self.t >= self.max_steps, {}

    def _observation(self) -> dict[str, Any]:
        return {"position": np.array([self.t, -self.t], dtype=np.float32), "mode": self.t % 3}


def make_counter_env(max_steps: int = 5, terminate_at: int | None = None, start: int = 0):
    """A picklable zero-argument factory for `CounterEnv`, for Sync/Async vector envs."""
    return _CounterEnvFactory(max_steps, terminate_at, start)


class _CounterEnvFactory:
    # A class rather than a lambda: AsyncVectorEnv pickles the factories for its workers.
    def __init__(self, max_steps: int, terminate_at: int | None, start: int):
        self.arguments = (max_steps, terminate_at, start)

    def __call__(self) -> CounterEnv:
        return CounterEnv(*self.arguments)


class EndlessRewardEnv(gymnasium.Env):
    """Observation always `[1.0]`, reward 1 every step, never terminated, truncated after `max_steps`.

    The task never ends, so the true value of the (single) state is 1 / (1 − γ); an agent that
    treats the time-limit truncation as termination learns a smaller value instead.
    """

    def __init__(self, max_steps: int = 5):
        self.max_steps = max_steps
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.t = 0
        return np.ones(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.ones(1, dtype=np.float32), 1.0, False, self.t >= self.max_steps, {}
