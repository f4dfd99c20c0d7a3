"""A2C training speed and final return: rlblocks against stable-baselines3, same settings, same run.

Settings (both libraries): CartPole-v1, 8 synchronous envs, 16-step rollouts, one gradient step on
the whole rollout per update (rlblocks ``mini_batches`` 1), Adam lr 1e-3 (eps 1e-8; SB3
``use_rms_prop=False``), γ 0.99, λ 0.95, normalised advantages, value coefficient 1 (rlblocks' A2C
has no value scale), no entropy bonus, grad norm 0.5, separate 2x64 tanh MLPs for policy and value
initialised as SB3 does (`ppo_cartpole.mlp`), one torch thread. Seeds run interleaved (rlblocks seed
0, SB3 seed 0, rlblocks seed 1, ...) through `comparison.compare`.

Reported per run: env steps/s (wall clock of the whole `learn`/`train` call, updates included),
the final mean return (last 100 finished training episodes, as both libraries keep it) and the
deterministic evaluation return (10 fresh episodes, `comparison.evaluate`).

The final return of one run is chaotic: a 1e-6 perturbation of SB3's initial weights moves its
seed-2 final return from 497 to 290, and rlblocks run in lockstep with SB3 (same initial weights,
env seeds, torch RNG stream and sampler) gives the same parameters to 1e-7 for ~170 updates, then
drifts apart from rounding alone. Per-seed figures are draws from a wide distribution; the
default is 10 seeds so the medians mean something.

Run: ``.venv/bin/python benchmarks/a2c_cartpole.py [--seeds 10] [--steps 120000] [--output PATH]``
(needs stable-baselines3: ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import numpy as np
import torch
from comparison import compare, evaluate
from ppo_cartpole import mlp
from torch import nn

ENV_ID = "CartPole-v1"
NUM_ENVS = 8
ROLLOUT = 16
LEARNING_RATE = 1e-3


def run_rlblocks(seed: int, env_steps: int) -> dict[str, float]:
    from rlblocks.agents.torch.a2c import A2C
    from rlblocks.envs.torch import wrap_env
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, Model
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import set_seed

    class Policy(CategoricalMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            CategoricalMixin.__init__(self, role="policy")
            self.net = mlp(self.num_observations, self.num_actions, output_gain=0.01)

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self, role="value")
            self.net = mlp(self.num_observations, 1, output_gain=1.0)

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    set_seed(seed)
    vector_env = gym.make_vec(ENV_ID, num_envs=NUM_ENVS, vectorization_mode="sync")
    vector_env.reset(seed=seed)
    env = wrap_env(vector_env, verbose=False)
    cfg = {
        "rollouts": ROLLOUT,
        "mini_batches": 1,
        "learning_rate": LEARNING_RATE,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "entropy_loss_scale": 0.0,
        "grad_norm_clip": 0.5,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    models = {
        "policy": Policy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    agent = A2C(models, RandomMemory(ROLLOUT, NUM_ENVS), env.observation_space, env.action_space, "cpu", cfg)
    timesteps = env_steps // NUM_ENVS
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    agent.set_running_mode("eval")

    def act(observation: np.ndarray) -> int:
        with torch.no_grad():
            states = torch.as_tensor(observation, dtype=torch.float32).view(1, -1)
            return int(agent.act(states, 0, 0)[0].item())

    return {
        "steps_per_second": timesteps * NUM_ENVS / elapsed,
        "final_return": agent.recent_mean_return,
        "evaluation_return": evaluate(ENV_ID, act),
    }


def run_sb3(seed: int, env_steps: int) -> dict[str, float]:
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env(ENV_ID, n_envs=NUM_ENVS, seed=seed)
    model = A2C(
        "MlpPolicy",
        env,
        n_steps=ROLLOUT,
        learning_rate=LEARNING_RATE,
        gamma=0.99,
        gae_lambda=0.95,
        ent_coef=0.0,
        vf_coef=1.0,
        max_grad_norm=0.5,
        use_rms_prop=False,
        normalize_advantage=True,
        policy_kwargs={
            "net_arch": {"pi": [64, 64], "vf": [64, 64]},
            "activation_fn": nn.Tanh,
            "optimizer_kwargs": {"eps": 1e-8},  # torch's default, as rlblocks' Adam (SB3's Adam: 1e-5)
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - start
    returns = [info["r"] for info in model.ep_info_buffer]

    def act(observation: np.ndarray) -> int:
        return int(model.predict(observation, deterministic=True)[0])

    return {
        "steps_per_second": model.num_timesteps / elapsed,
        "final_return": float(np.mean(returns)),
        "evaluation_return": evaluate(ENV_ID, act),
    }


CONTENDERS = {"rlblocks": run_rlblocks, "stable-baselines3": run_sb3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=120_000)
    parser.add_argument(
        "--output", default=os.path.join(os.path.dirname(__file__), "results", "a2c_cartpole.json")
    )
    arguments = parser.parse_args()
    settings = {"env": ENV_ID, "num_envs": NUM_ENVS, "rollout": ROLLOUT, "learning_rate": LEARNING_RATE}
    compare(CONTENDERS, arguments.seeds, arguments.steps, settings, arguments.output)


if __name__ == "__main__":
    main()
