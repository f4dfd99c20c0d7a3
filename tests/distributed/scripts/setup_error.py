"""Rank 1 raises while setting up, before any collective; rank 0 goes on to the agent's broadcast.

torchrun sees rank 1 fail and stops rank 0, which would otherwise wait for rank 1 in the
broadcast (until the process group's timeout, RLBLOCKS_DISTRIBUTED_TIMEOUT).
"""

from __future__ import annotations

import gymnasium
import numpy as np

from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.config import torch as config
from rlblocks.memories.torch import RandomMemory
from tests.helpers.models import GaussianPolicy, Value

if __name__ == "__main__":
    if config.rank == 1:
        raise ValueError("rank 1 failed during set-up")
    space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    models = {"policy": GaussianPolicy(space, space, hidden=(8,)), "value": Value(space, space, hidden=(8,))}
    cfg = {**PPO_DEFAULT_CONFIG, "rollouts": 4, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}
    agent = PPO(models, RandomMemory(memory_size=4, num_envs=1), space, space, "cpu", cfg)
    agent.init()  # the broadcast that rank 1 never joins
    raise SystemExit("rank 0 got past a broadcast that rank 1 never joined")
