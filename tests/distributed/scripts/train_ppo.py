"""PPO on the batched CartPole with the SequentialTrainer, as a user's script launched by torchrun.

usage: train_ppo.py RUNS_DIR PARAMS_DIR [--timesteps T] [--resume CHECKPOINT] [--device cpu|cuda]
       [--parallel]

Each rank names its experiment ``run_rank<r>`` under RUNS_DIR (so a file written by any rank
but 0 would show), steps its own 16 envs seeded with seed + rank, and at the end saves its
parameters and Adam state to PARAMS_DIR/rank<r>.pt for the test to compare. ``--parallel``: two
agents, 8 envs each, under the ParallelTrainer (saved to PARAMS_DIR/rank<r>_agent<i>.pt).
"""

from __future__ import annotations

import argparse
import os

import torch

from rlblocks.agents.torch.base import META_KEY
from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.config import torch as config
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.trainers.torch import ParallelTrainer, SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy, Value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs")
    parser.add_argument("params")
    parser.add_argument("--timesteps", type=int, default=64)
    parser.add_argument("--resume")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--parallel", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seed = set_seed(0)
    device = config.device if args.device == "cuda" else torch.device("cpu")
    env = wrap_env(CartPole(16, device=device, seed=seed), verbose=False)
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": 16,
        "learning_epochs": 2,
        "mini_batches": 2,
        "learning_rate": 1e-3,
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": env.observation_space, "device": device},
        "value_preprocessor": RunningStandardScaler,
        "value_preprocessor_kwargs": {"size": 1, "device": device},
        "experiment": {
            "directory": args.runs,
            "experiment_name": f"run_rank{config.rank}",
            "write_interval": 16,
            "checkpoint_interval": 32,
        },
    }
    if args.parallel:
        agents = [make_agent(env, cfg, device, 8) for _ in range(2)]
        trainer_cfg = {"timesteps": args.timesteps, "headless": True}
        ParallelTrainer(env=env, agents=agents, agents_scope=[8, 8], cfg=trainer_cfg).train()
        for index, agent in enumerate(agents):
            save(agent, os.path.join(args.params, f"rank{config.rank}_agent{index}.pt"))
        return
    agent = make_agent(env, cfg, device, env.num_envs)
    if args.resume:
        agent.load(args.resume)
    trainer_cfg = {"timesteps": args.timesteps, "headless": True, "resume": bool(args.resume)}
    SequentialTrainer(env=env, agents=agent, cfg=trainer_cfg).train()
    save(agent, os.path.join(args.params, f"rank{config.rank}.pt"))


def make_agent(env, cfg, device, num_envs: int) -> PPO:
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space, device, hidden=(32,)),
        "value": Value(env.observation_space, env.action_space, device, hidden=(32,)),
    }
    memory = RandomMemory(memory_size=16, num_envs=num_envs, device=device)
    return PPO(models, memory, env.observation_space, env.action_space, device, cfg)


def save(agent, path: str) -> None:
    state = {name: value for name, value in agent.checkpoint().items() if name != META_KEY}
    torch.save({**state, "timestep": agent.timestep}, path)


if __name__ == "__main__":
    main()
