"""Writes the two fixtures this folder adds to the shared ones (see README.md); not a test.

Needs stable-baselines3 (``pip install -e ".[bench]"``). Run from the repository root:
``python tests/data/checkpoints/make_extra_fixtures.py``. Outputs, next to this file:

- ``sb3_td3_pendulum.zip`` and ``.groundtruth.pt``: TD3, ``net_arch=[64, 64]``, 300 steps; ground
  truth read back from ``TD3.load``: actor/target-actor actions and the four critics' Q-values.
- ``sb3_vecnormalize_cartpole.pkl`` and ``.groundtruth.pt``: ``VecNormalize.save`` after 200 random
  steps; ground truth from ``VecNormalize.load(...).normalize_obs`` on in- and out-of-range batches.
"""

from __future__ import annotations

import pathlib

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import TD3
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

HERE = pathlib.Path(__file__).parent


def observations(env_id: str, count: int = 16) -> torch.Tensor:
    """``count`` observations: reset with seed 2000+i, then i % 7 random steps."""
    env, rows = gym.make(env_id), []
    for index in range(count):
        observation, _ = env.reset(seed=2000 + index)
        env.action_space.seed(index)
        for _ in range(index % 7):
            observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                observation, _ = env.reset()
        rows.append(observation)
    return torch.as_tensor(np.stack(rows), dtype=torch.float32)


def make_td3() -> None:
    model = TD3(
        "MlpPolicy",
        "Pendulum-v1",
        seed=0,
        device="cpu",
        learning_starts=100,
        policy_kwargs={"net_arch": [64, 64]},
    )
    model.learn(total_timesteps=300)
    model.save(HERE / "sb3_td3_pendulum.zip")
    loaded = TD3.load(HERE / "sb3_td3_pendulum.zip", device="cpu")
    obs = observations("Pendulum-v1")
    outputs = {}
    with torch.no_grad():
        actions = loaded.actor(obs)
        outputs["actions_squashed"] = actions
        outputs["target_actor_actions_squashed"] = loaded.actor_target(obs)
        outputs["q_values_at_squashed_actions"] = list(loaded.critic(obs, actions))
        outputs["target_q_values_at_squashed_actions"] = list(loaded.critic_target(obs, actions))
    state_dict = loaded.policy.state_dict()
    torch.save(
        {
            "meta": {
                "library": "stable-baselines3",
                "library_version": stable_baselines3.__version__,
                "algorithm": "TD3",
                "env_id": "Pendulum-v1",
                "total_timesteps": 300,
            },
            "obs": obs,
            "state_dict_keys": list(state_dict),
            "outputs": outputs,
        },
        HERE / "sb3_td3_pendulum.groundtruth.pt",
    )


def make_vec_normalize() -> None:
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]), clip_obs=4.0)
    venv.seed(0)
    venv.reset()
    venv.action_space.seed(0)
    for _ in range(200):
        venv.step(np.array([venv.action_space.sample()]))
    venv.save(str(HERE / "sb3_vecnormalize_cartpole.pkl"))
    loaded = VecNormalize.load(
        str(HERE / "sb3_vecnormalize_cartpole.pkl"), DummyVecEnv([lambda: gym.make("CartPole-v1")])
    )
    obs = observations("CartPole-v1")
    torch.save(
        {
            "meta": {
                "library": "stable-baselines3",
                "library_version": stable_baselines3.__version__,
                "wrapper": "VecNormalize(clip_obs=4.0)",
                "env_id": "CartPole-v1",
                "steps": 200,
            },
            "obs": obs,
            "obs_ood": 6 * obs,
            "normalized": torch.as_tensor(loaded.normalize_obs(obs.numpy())),
            "normalized_ood": torch.as_tensor(loaded.normalize_obs(6 * obs.numpy())),
            "obs_rms": {
                "mean": torch.as_tensor(loaded.obs_rms.mean),
                "var": torch.as_tensor(loaded.obs_rms.var),
                "count": float(loaded.obs_rms.count),
            },
            "epsilon": float(loaded.epsilon),
            "clip_obs": float(loaded.clip_obs),
        },
        HERE / "sb3_vecnormalize_cartpole.groundtruth.pt",
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    make_td3()
    make_vec_normalize()
