"""PPO whose models are built lazily (nn.LazyLinear) on the batched CartPole, under torchrun.

usage: lazy.py PARAMS_DIR

The agent's broadcast at ``init`` finds no parameters yet; they are built at the first ``act``
with each rank's own random values and broadcast from rank 0 at the first optimizer step. Saves
rank<r>.pt after 48 timesteps (3 updates).
"""

from __future__ import annotations

import os
import sys

import torch
from torch import nn

from rlblocks.agents.torch.base import META_KEY
from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.config import torch as config
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole
from rlblocks.memories.torch import RandomMemory
from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, Model
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed


class LazyPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space, "cpu")
        CategoricalMixin.__init__(self, role="policy")
        self.net = nn.Sequential(nn.LazyLinear(16), nn.Tanh(), nn.LazyLinear(2))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class LazyValue(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space, "cpu")
        DeterministicMixin.__init__(self, role="value")
        self.net = nn.Sequential(nn.LazyLinear(16), nn.Tanh(), nn.LazyLinear(1))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


if __name__ == "__main__":
    torch.set_num_threads(1)
    seed = set_seed(0)
    env = wrap_env(CartPole(8, seed=seed), verbose=False)
    models = {"policy": LazyPolicy(env.observation_space, env.action_space)}
    models["value"] = LazyValue(env.observation_space, env.action_space)
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": 16,
        "mini_batches": 2,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    memory = RandomMemory(memory_size=16, num_envs=8)
    agent = PPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 48, "headless": True}).train()
    state = {name: value for name, value in agent.checkpoint().items() if name != META_KEY}
    torch.save(state, os.path.join(sys.argv[1], f"rank{config.rank}.pt"))
