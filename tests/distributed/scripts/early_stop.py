"""PPO under torchrun with evaluation during training and a callback that stops on rank 1 only.

usage: early_stop.py OUT_DIR

Each rank evaluates on its own batched CartPole (seeded with seed + rank) every 8 timesteps and
has a callback whose ``on_step`` returns True at timestep 20 on rank 1 only. Every rank must stop
at 20 (no rank left waiting in a collective) with the same evaluation means; each writes
``OUT_DIR/rank<r>.json``: its timestep, stop reason and evaluation means.
"""

from __future__ import annotations

import json
import os
import sys

import torch

from rlblocks.agents.torch.ppo import PPO
from rlblocks.config import torch as config
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import Callback, SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy, Value


class StopOnRankOne(Callback):
    def on_step(self, trainer, timestep):
        return config.rank == 1 and timestep == 20


def main() -> None:
    out = sys.argv[1]
    torch.set_num_threads(1)
    seed = set_seed(0)
    env = wrap_env(CartPole(8, seed=seed), verbose=False)
    eval_env = wrap_env(CartPole(1, seed=seed + 100), verbose=False)
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, env.action_space, hidden=(16,)),
    }
    cfg = {"rollouts": 8, "mini_batches": 2, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}
    agent = PPO(models, RandomMemory(8, env.num_envs), env.observation_space, env.action_space, "cpu", cfg)
    trainer_cfg = {"timesteps": 64, "headless": True, "progress": "none"}
    trainer_cfg.update(eval_interval=8, eval_episodes=2)
    trainer = SequentialTrainer(env, agent, cfg=trainer_cfg, eval_env=eval_env, callbacks=[StopOnRankOne()])
    trainer.train()
    result = {
        "timestep": agent.timestep,
        "stop_reason": trainer.stop_reason,
        "means": [evaluation.mean for evaluation in trainer.monitor.evaluations],
    }
    with open(os.path.join(out, f"rank{config.rank}.json"), "w", encoding="utf-8") as stream:
        json.dump(result, stream)


if __name__ == "__main__":
    main()
