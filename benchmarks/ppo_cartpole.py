"""PPO training speed and final return: rlblocks against stable-baselines3, same settings, same run.

Settings (both libraries): CartPole-v1, 8 synchronous envs, 128-step rollouts, 4 epochs of 4
mini-batches, lr 2.5e-4, γ 0.99, λ 0.95, clip 0.2, entropy 0.01, value coefficient 0.5, grad norm
0.5, separate 2x64 tanh MLPs for policy and value (initialised as SB3 does: orthogonal, gains √2,
0.01 for the policy head, 1 for the value head), 100,000 env steps, one torch thread. Seeds run
interleaved (rlblocks seed 0, SB3 seed 0, rlblocks seed 1, ...) so machine load hits both alike.

Reported per run: env steps/s (wall clock of the whole `learn`/`train` call, updates included)
and the final mean return (mean over the last 100 finished training episodes, as both libraries
keep it). The summary gives medians and the ratio rlblocks / SB3.

Run: ``.venv/bin/python benchmarks/ppo_cartpole.py [--seeds 3] [--steps 100000] [--output PATH]``
(needs stable-baselines3: ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import gymnasium as gym
import numpy as np
import torch
from torch import nn

NUM_ENVS = 8
ROLLOUT = 128
EPOCHS = 4
MINI_BATCHES = 4
LEARNING_RATE = 2.5e-4


def mlp(inputs: int, outputs: int, output_gain: float) -> nn.Sequential:
    """2x64 tanh MLP initialised as SB3 does: orthogonal, gain √2 (output layer: given), zero biases."""
    network = nn.Sequential(
        nn.Linear(inputs, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, outputs)
    )
    linears = [module for module in network if isinstance(module, nn.Linear)]
    for layer, gain in zip(linears, (2**0.5, 2**0.5, output_gain)):
        nn.init.orthogonal_(layer.weight, gain=gain)
        nn.init.zeros_(layer.bias)
    return network


def run_rlblocks(seed: int, env_steps: int) -> dict[str, float]:
    from rlblocks.agents.torch.ppo import PPO
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
    vector_env = gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync")
    vector_env.reset(seed=seed)
    env = wrap_env(vector_env, verbose=False)
    cfg = {
        "rollouts": ROLLOUT,
        "learning_epochs": EPOCHS,
        "mini_batches": MINI_BATCHES,
        "learning_rate": LEARNING_RATE,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "ratio_clip": 0.2,
        "entropy_loss_scale": 0.01,
        "value_loss_scale": 0.5,
        "grad_norm_clip": 0.5,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    models = {
        "policy": Policy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    agent = PPO(models, RandomMemory(ROLLOUT, NUM_ENVS), env.observation_space, env.action_space, "cpu", cfg)
    timesteps = env_steps // NUM_ENVS
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    return {"steps_per_second": timesteps * NUM_ENVS / elapsed, "final_return": agent.recent_mean_return}


def run_sb3(seed: int, env_steps: int) -> dict[str, float]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("CartPole-v1", n_envs=NUM_ENVS, seed=seed)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=ROLLOUT,
        batch_size=ROLLOUT * NUM_ENVS // MINI_BATCHES,
        n_epochs=EPOCHS,
        learning_rate=LEARNING_RATE,
        gamma=0.99,
        gae_lambda=0.95,
        clip_range=0.2,
        ent_coef=0.01,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}, "activation_fn": nn.Tanh},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - start
    returns = [info["r"] for info in model.ep_info_buffer]
    return {"steps_per_second": model.num_timesteps / elapsed, "final_return": float(np.mean(returns))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument(
        "--output", default=os.path.join(os.path.dirname(__file__), "results", "ppo_cartpole.json")
    )
    arguments = parser.parse_args()
    torch.set_num_threads(1)

    runs: dict[str, list[dict[str, float]]] = {"rlblocks": [], "stable-baselines3": []}
    for seed in range(arguments.seeds):
        for name, run in (("rlblocks", run_rlblocks), ("stable-baselines3", run_sb3)):
            result = run(seed, arguments.steps)
            runs[name].append(result)
            print(
                f"{name:18s} seed {seed}: {result['steps_per_second']:8.0f} steps/s, "
                f"return {result['final_return']:6.1f}"
            )

    summary = {
        name: {
            "steps_per_second": statistics.median(r["steps_per_second"] for r in results),
            "final_return": statistics.median(r["final_return"] for r in results),
        }
        for name, results in runs.items()
    }
    ratio = summary["rlblocks"]["steps_per_second"] / summary["stable-baselines3"]["steps_per_second"]
    print("\n| library | env steps/s (median) | final mean return (median) |\n|---|---|---|")
    for name, values in summary.items():
        print(f"| {name} | {values['steps_per_second']:.0f} | {values['final_return']:.1f} |")
    print(f"\nspeed ratio rlblocks / stable-baselines3: {ratio:.2f}")
    os.makedirs(os.path.dirname(arguments.output), exist_ok=True)
    with open(arguments.output, "w") as stream:
        json.dump(
            {
                "settings": {
                    "env": "CartPole-v1",
                    "num_envs": NUM_ENVS,
                    "rollout": ROLLOUT,
                    "env_steps": arguments.steps,
                },
                "machine": {"platform": platform.platform(), "torch": torch.__version__},
                "runs": runs,
                "summary": summary,
                "speed_ratio": ratio,
            },
            stream,
            indent=2,
        )


if __name__ == "__main__":
    main()
