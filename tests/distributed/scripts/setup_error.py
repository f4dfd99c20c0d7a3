"""Rank 1 raises (or, with ``stuck``, sleeps) while setting up; rank 0 goes on to the agent's broadcast.

usage: setup_error.py [stuck]

torchrun sees a failed rank 1 and stops rank 0, which would otherwise wait for it in the
broadcast; a stuck rank 1 is not noticed by torchrun, and rank 0's broadcast ends with an error
after the process group's timeout (RLBLOCKS_DISTRIBUTED_TIMEOUT), which then stops rank 1.
"""

from __future__ import annotations

import sys
import time

import gymnasium
import numpy as np

from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.config import torch as config
from rlblocks.memories.torch import RandomMemory
from tests.helpers.models import GaussianPolicy, Value

if __name__ == "__main__":
    if config.rank == 1:
        if "stuck" in sys.argv[1:]:
            time.sleep(300)
        raise ValueError("rank 1 failed during set-up")
    space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    models = {"policy": GaussianPolicy(space, space, hidden=(8,)), "value": Value(space, space, hidden=(8,))}
    cfg = {**PPO_DEFAULT_CONFIG, "rollouts": 4, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}
    agent = PPO(models, RandomMemory(memory_size=4, num_envs=1), space, space, "cpu", cfg)
    agent.init()  # the broadcast that rank 1 never joins
    raise SystemExit("rank 0 got past a broadcast that rank 1 never joined")
