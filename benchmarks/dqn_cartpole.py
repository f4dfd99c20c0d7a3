"""DQN training speed and final return: rlblocks against stable-baselines3, same settings, same run.

Settings (both libraries): CartPole-v1, one env, a 2x128 ReLU Q-network, batch 128, Adam lr 1e-3
decaying linearly (to 0 at the last step), γ 0.99, soft target update τ = 0.005 after every gradient step, one
gradient step per env step after 1,000 warm-up steps, rewards scaled by 0.1 for training,
40,000 env steps, one torch thread (the DQN learning test's settings). Seeds run interleaved.

What cannot be made identical: ε falls exponentially in rlblocks (skrl 0.10's schedule,
time constant 1,500 steps, to 0.04) and linearly in SB3 (to 0.04 over the first 4,500 steps, where
rlblocks' ε is within 5% of 0.04); SB3's loss is the Huber loss (rlblocks: mean squared error,
as skrl; with rewards scaled by 0.1 the TD errors stay mostly below 1, where the two agree up to
a factor Adam normalises away), and SB3 always clips gradients (here at a norm of 1e9: never).

Reported per run: env steps/s (wall clock of the whole `learn`/`train` call) and the final
return: the mean return of the greedy policy over 10 fresh episodes (seeds 1000..1009).

Run: ``.venv/bin/python benchmarks/dqn_cartpole.py [--seeds 3] [--steps 40000] [--output PATH]``
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
from torch import nn

ENV_ID = "CartPole-v1"
HIDDEN = 128
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
LEARNING_STARTS = 1_000
REWARD_SCALE = 0.1
EPSILON_TIME_CONSTANT = 1_500
FINAL_EPSILON = 0.04


def run_rlblocks(seed: int, env_steps: int) -> dict[str, float]:
    from rlblocks.agents.torch.dqn import DQN
    from rlblocks.envs.torch import wrap_env
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.models.torch import DeterministicMixin, Model
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import set_seed

    class QNetwork(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self, role="q_network")
            self.net = nn.Sequential(
                nn.Linear(self.num_observations, HIDDEN),
                nn.ReLU(),
                nn.Linear(HIDDEN, HIDDEN),
                nn.ReLU(),
                nn.Linear(HIDDEN, self.num_actions),
            )

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    set_seed(seed)
    vector_env = gym.make_vec(ENV_ID, num_envs=1, vectorization_mode="sync")
    vector_env.reset(seed=seed)
    env = wrap_env(vector_env, verbose=False)
    spaces = (env.observation_space, env.action_space)
    models = {"q_network": QNetwork(*spaces), "target_q_network": QNetwork(*spaces)}
    cfg = {
        "batch_size": BATCH_SIZE,
        "discount_factor": 0.99,
        "learning_rate": LEARNING_RATE,
        "learning_rate_scheduler": torch.optim.lr_scheduler.LinearLR,
        "learning_rate_scheduler_kwargs": {
            "start_factor": 1.0,
            "end_factor": 0.0,
            "total_iters": env_steps,
        },
        "learning_starts": LEARNING_STARTS,
        "polyak": 0.005,
        "target_update_interval": 1,
        "exploration": {"final_epsilon": FINAL_EPSILON, "timesteps": EPSILON_TIME_CONSTANT},
        "rewards_shaper": lambda rewards, timestep, timesteps: rewards * REWARD_SCALE,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = DQN(models, RandomMemory(env_steps, 1), *spaces, "cpu", cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": env_steps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    agent.set_running_mode("eval")

    def policy(observation: np.ndarray) -> int:
        with torch.no_grad():
            states = torch.as_tensor(observation, dtype=torch.float32).view(1, -1)
            return int(agent.act(states, 0, 0)[0].item())

    return {"steps_per_second": env_steps / elapsed, "final_return": evaluate(ENV_ID, policy)}


def run_sb3(seed: int, env_steps: int) -> dict[str, float]:
    from stable_baselines3 import DQN

    env = gym.wrappers.TransformReward(gym.make(ENV_ID), lambda reward: reward * REWARD_SCALE)
    model = DQN(
        "MlpPolicy",
        env,
        learning_rate=lambda progress_remaining: LEARNING_RATE * progress_remaining,
        buffer_size=env_steps,
        learning_starts=LEARNING_STARTS,
        batch_size=BATCH_SIZE,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=1,
        exploration_fraction=3 * EPSILON_TIME_CONSTANT / env_steps,
        exploration_initial_eps=1.0,
        exploration_final_eps=FINAL_EPSILON,
        max_grad_norm=1e9,
        policy_kwargs={"net_arch": [HIDDEN, HIDDEN], "activation_fn": nn.ReLU},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - start

    def policy(observation: np.ndarray) -> int:
        return int(model.predict(observation, deterministic=True)[0])

    return {"steps_per_second": model.num_timesteps / elapsed, "final_return": evaluate(ENV_ID, policy)}


CONTENDERS = {"rlblocks": run_rlblocks, "stable-baselines3": run_sb3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument(
        "--output", default=os.path.join(os.path.dirname(__file__), "results", "dqn_cartpole.json")
    )
    arguments = parser.parse_args()
    settings = {
        "env": ENV_ID,
        "num_envs": 1,
        "hidden": [HIDDEN, HIDDEN],
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "learning_starts": LEARNING_STARTS,
        "reward_scale": REWARD_SCALE,
    }
    compare(CONTENDERS, arguments.seeds, arguments.steps, settings, arguments.output)


if __name__ == "__main__":
    main()
