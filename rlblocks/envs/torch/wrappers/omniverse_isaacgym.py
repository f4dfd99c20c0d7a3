"""`OmniverseIsaacGymWrapper`: Omniverse Isaac Gym envs (`omni.isaac.gym.vec_env.VecEnvBase`/`VecEnvMT`).

Contract (OmniIsaacGymEnvs 2022.x/2023.1 `VecEnvRLGames`; tested against a torch fake, not the real
simulator, see `isaac_base`): `reset() -> obs_dict`; `step(actions) -> (obs_dict, rew, resets,
extras)`, tensors batched on the env's `device`, observations in `obs_dict["obs"]` (privileged
ones in `obs_dict["states"]`, returned by `state()`), `extras["time_outs"]` (if the task sets it)
flagging time-outs, reported as truncations. The multi-threaded `VecEnvMT` runs the simulation in
the main thread and the trainer in another: `run(trainer)` starts them (the env's own `run`).

Differs from skrl 0.10: time-outs, where the task reports them, are truncations (skrl: never).
"""

from __future__ import annotations

from typing import Any

from rlblocks.envs.torch.wrappers.isaacgym import IsaacGymPreview3Wrapper


def is_omniverse_isaacgym_env(env: Any) -> bool:
    """Whether `env` derives from Omniverse Isaac Gym's `VecEnvBase` or `VecEnvMT`."""
    return any(
        klass.__name__ in ("VecEnvBase", "VecEnvMT") and klass.__module__.startswith("omni.isaac.gym")
        for klass in type(env).__mro__
    )


class OmniverseIsaacGymWrapper(IsaacGymPreview3Wrapper):
    """Wraps an Omniverse Isaac Gym env: preview 3's observation dict, plus `run(trainer)` and `close`."""

    def run(self, trainer: Any = None) -> None:
        """Run the simulation in the main thread and `trainer` in another (multi-threaded `VecEnvMT`).

        Raises:
            AttributeError: the env is not multi-threaded (has no `run`).
        """
        if not hasattr(self._env, "run"):
            raise AttributeError(
                f"{type(self._env).__name__} has no run(): OmniverseIsaacGymWrapper.run is for the "
                "multi-threaded VecEnvMT (load_omniverse_isaacgym_env(..., multi_threaded=True)); "
                "with VecEnvBase call trainer.train() directly."
            )
        self._env.run(trainer)

    def close(self) -> None:
        """Close the env (and its simulation app)."""
        self._env.close()
