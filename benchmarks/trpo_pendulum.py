"""TRPO training speed and final return: rlblocks against sb3-contrib, same settings, same run.

Settings (both libraries): Pendulum-v1, 8 synchronous envs, 256-step rollouts (2,048 transitions
per policy step), γ 0.9, λ 0.95, normalised advantages, δ (max KL) 0.01, 10 conjugate-gradient
iterations with damping 0.1, a line search of at most 10 step sizes halving each time (SB3's
``line_search_shrinking_factor=0.5``) accepting any improvement (rlblocks ``accept_ratio=0``, as
SB3's test), value function by Adam lr 1e-3 for 10 epochs of 128-transition mini-batches, no
gradient clipping (SB3's TRPO has none), separate 2x64 tanh MLPs for policy and value initialised
as SB3 does (orthogonal, gains √2, 0.01 for the mean head, 1 for the value head), a state-independent
log-std starting at 0, time-limit truncations bootstrapped (both), 100,000 env steps, one torch
thread. Seeds run interleaved (rlblocks seed 0, SB3 seed 0, rlblocks seed 1, ...) so machine load
hits both alike.

Reported per run: env steps/s (wall clock of the whole `learn`/`train` call, updates included) and
the final return: the mean return of the deterministic policy over 10 fresh episodes (evaluation
seeds 1000..1009, the same for both). The summary gives medians and the ratio rlblocks / SB3.

Run: ``.venv/bin/python benchmarks/trpo_pendulum.py [--seeds 3] [--steps 100000] [--output PATH]``
(needs sb3-contrib: ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import numpy as np
import torch
from comparison import compare, evaluate
from torch import nn

ENV_ID = "Pendulum-v1"
NUM_ENVS = 8
ROLLOUT = 256
BATCH_SIZE = 128
VALUE_EPOCHS = 10
LEARNING_RATE = 1e-3
GAMMA = 0.9
GAE_LAMBDA = 0.95
MAX_KL = 0.01
CG_STEPS = 10
CG_DAMPING = 0.1
BACKTRACK_STEPS = 10
EVALUATION_EPISODES = 10


def mlp(inputs: int, outputs: int, output_gain: float) -> nn.Sequential:
    """2x64 tanh MLP initialised as SB3 does: orthogonal, gain √2 (output layer: given), zero biases."""
    network = nn.Sequential(
        nn.Linear(inputs, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, outputs)
    )
    linears = [module for module in network if isinstance(module, nn.Linear)]
    for layer, gain in zip(linears, (2**0.5, 2**0.5, output_gain), strict=True):
        nn.init.orthogonal_(layer.weight, gain=gain)
        nn.init.zeros_(layer.bias)
    return network


def run_rlblocks(seed: int, env_steps: int) -> dict[str, float]:
    from rlblocks.agents.torch.trpo import TRPO
    from rlblocks.envs.torch import wrap_env
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.models.torch import DeterministicMixin, GaussianMixin, Model
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import set_seed

    class Policy(GaussianMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            GaussianMixin.__init__(self, role="policy")
            self.net = mlp(self.num_observations, self.num_actions, output_gain=0.01)
            self.log_std = nn.Parameter(torch.zeros(self.num_actions))

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), self.log_std, {}

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
        "learning_epochs": VALUE_EPOCHS,
        "mini_batches": ROLLOUT * NUM_ENVS // BATCH_SIZE,
        "discount_factor": GAMMA,
        "lambda": GAE_LAMBDA,
        "value_learning_rate": LEARNING_RATE,
        "grad_norm_clip": 0.0,
        "damping": CG_DAMPING,
        "max_kl_divergence": MAX_KL,
        "conjugate_gradient_steps": CG_STEPS,
        "max_backtrack_steps": BACKTRACK_STEPS,
        "accept_ratio": 0.0,
        "step_fraction": 1.0,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    models = {
        "policy": Policy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    memory = RandomMemory(ROLLOUT, NUM_ENVS)
    agent = TRPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)
    timesteps = env_steps // NUM_ENVS
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    agent.set_running_mode("eval")

    def policy(observation: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            states = torch.as_tensor(observation, dtype=torch.float32).view(1, -1)
            return agent.act(states, 0, 0)[0][0].numpy()

    return {
        "steps_per_second": timesteps * NUM_ENVS / elapsed,
        "final_return": evaluate(ENV_ID, policy, EVALUATION_EPISODES),
    }


def run_sb3_contrib(seed: int, env_steps: int) -> dict[str, float]:
    from sb3_contrib import TRPO
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env(ENV_ID, n_envs=NUM_ENVS, seed=seed)
    model = TRPO(
        "MlpPolicy",
        env,
        learning_rate=LEARNING_RATE,
        n_steps=ROLLOUT,
        batch_size=BATCH_SIZE,
        gamma=GAMMA,
        cg_max_steps=CG_STEPS,
        cg_damping=CG_DAMPING,
        line_search_shrinking_factor=0.5,
        line_search_max_iter=BACKTRACK_STEPS,
        n_critic_updates=VALUE_EPOCHS,
        gae_lambda=GAE_LAMBDA,
        normalize_advantage=True,
        target_kl=MAX_KL,
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}, "activation_fn": nn.Tanh},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - start

    def policy(observation: np.ndarray) -> np.ndarray:
        return model.predict(observation, deterministic=True)[0]

    return {
        "steps_per_second": model.num_timesteps / elapsed,
        "final_return": evaluate(ENV_ID, policy, EVALUATION_EPISODES),
    }


CONTENDERS = {"rlblocks": run_rlblocks, "sb3-contrib": run_sb3_contrib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument(
        "--output", default=os.path.join(os.path.dirname(__file__), "results", "trpo_pendulum.json")
    )
    arguments = parser.parse_args()
    settings = {
        "env": ENV_ID,
        "num_envs": NUM_ENVS,
        "rollout": ROLLOUT,
        "batch_size": BATCH_SIZE,
        "value_epochs": VALUE_EPOCHS,
        "gamma": GAMMA,
        "max_kl": MAX_KL,
        "cg_steps": CG_STEPS,
    }
    compare(CONTENDERS, arguments.seeds, arguments.steps, settings, arguments.output)


if __name__ == "__main__":
    main()
