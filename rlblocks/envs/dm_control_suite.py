"""The dm_control suite as gymnasium environments, for the command line: `dm_control/<domain>-<task>-v0`.

Importing this module registers one gymnasium id per suite task (`dm_control.suite.ALL_TASKS`), e.g.
`dm_control/cartpole-balance-v0`, unless the id is registered already (shimmy registers the same
names); `rlblocks train --env dm_control/cartpole-balance-v0` imports it by itself. From Python,
`wrap_env(dm_control.suite.load(...))` (the "dm" wrapper) needs none of this.

`DMControlEnv` follows `DeepMindWrapper`'s rules: the observation is the flat float32 Box of the
observation spec's entries in sorted-key order, the action space the action spec's Box, a last
`TimeStep` with discount 0 terminates and with a discount > 0 (the time limit) truncates.
`reset(seed=s)` rebuilds the task with `task_kwargs={"random": s}`. `render_mode="rgb_array"` renders
with `physics.render` (set `MUJOCO_GL=egl` before the first import of dm_control on a headless machine).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np

from rlblocks.envs.torch.wrappers.deepmind import spec_to_space, timestep_outcome
from rlblocks.utils.spaces import flat_size, flatten_sample

NAMESPACE = "dm_control"
DM_EXTRA = "pip install 'rlblocks[dm]' (dm-control 1.0.34 with mujoco 3.3.7)"


def env_id(domain: str, task: str) -> str:
    """The gymnasium id of a suite task: `dm_control/<domain>-<task>-v0`."""
    return f"{NAMESPACE}/{domain}-{task}-v0"


class DMControlEnv(gymnasium.Env):
    """A dm_control suite task as a gymnasium env (see the module docstring).

    Args:
        domain: the suite domain, e.g. "cartpole".
        task: the task, e.g. "balance".
        render_mode: None or "rgb_array".
        task_kwargs: passed to `suite.load` (e.g. `{"time_limit": 5}`).
        render_size: (height, width) of rendered frames.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        domain: str,
        task: str,
        render_mode: str | None = None,
        task_kwargs: dict[str, Any] | None = None,
        render_size: tuple[int, int] = (240, 320),
    ) -> None:
        self.domain, self.task = domain, task
        self.render_mode = render_mode
        self.render_size = render_size
        self._task_kwargs = dict(task_kwargs or {})
        self._env = self._load(self._task_kwargs.get("random"))
        self._spec_space = spec_to_space(self._env.observation_spec())
        width = flat_size(self._spec_space)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (width,), np.float32)
        self.action_space = spec_to_space(self._env.action_spec())
        self._action_spec = self._env.action_spec()

    def _load(self, random: Any) -> Any:
        from dm_control import suite

        return suite.load(self.domain, self.task, task_kwargs={**self._task_kwargs, "random": random})

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode (a seed rebuilds the task with that random seed)."""
        super().reset(seed=seed)
        if seed is not None:
            self._env = self._load(seed)
        return self._observation(self._env.reset().observation), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One control step: (observation, reward, terminated, truncated, {"discount": d})."""
        action = np.asarray(action, dtype=self._action_spec.dtype).reshape(self._action_spec.shape)
        timestep = self._env.step(action)
        reward, terminated, truncated, discount = timestep_outcome(timestep)
        return self._observation(timestep.observation), reward, terminated, truncated, {"discount": discount}

    def render(self) -> np.ndarray | None:
        """An (H, W, 3) uint8 frame with render_mode "rgb_array", else None."""
        if self.render_mode != "rgb_array":
            return None
        height, width = self.render_size
        return self._env.physics.render(height=height, width=width, camera_id=0)

    def close(self) -> None:
        """Close the dm_control env."""
        self._env.close()

    def _observation(self, observation: Any) -> np.ndarray:
        batch = {key: np.asarray(value)[None] for key, value in observation.items()}
        return flatten_sample(self._spec_space, batch).numpy()[0]


def register_dm_control_envs() -> bool:
    """Register `dm_control/<domain>-<task>-v0` for every suite task; False if dm_control is missing."""
    try:
        from dm_control import suite
    except ImportError:
        return False
    for domain, task in suite.ALL_TASKS:
        name = env_id(domain, task)
        if name not in gymnasium.envs.registry:
            gymnasium.register(
                name,
                entry_point=DMControlEnv,
                kwargs={"domain": domain, "task": task},
                disable_env_checker=True,
            )
    return True


register_dm_control_envs()
