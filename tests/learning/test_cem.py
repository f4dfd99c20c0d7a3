"""CEM learns CartPole from 256 batched torch envs in seconds, judged on gymnasium's own CartPole-v1.

skrl 0.10's CEM supports one env only and weights returns with reversed discount exponents (#27);
this run needs both fixed: many envs, and episodes (up to 500 steps) scored whole across rollouts
of 50 steps.
"""

import time

import pytest
import torch

from rlblocks.agents.torch.cem import CEM, CEM_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning

NUM_ENVS = 256


def test_cem_solves_batched_cartpole_with_256_envs(one_torch_thread):
    """256 envs x 50-step rollouts, one Adam step (lr 1e-2) per rollout on the top 30% of episodes,
    100 updates (1.28M env steps): deterministic return 500 in ~9 s."""
    set_seed(0)
    rollouts, timesteps = 50, 5000
    env = wrap_env(CartPole(NUM_ENVS, seed=0), verbose=False)
    cfg = {
        **CEM_DEFAULT_CONFIG,
        "rollouts": rollouts,
        "percentile": 0.7,
        "discount_factor": 0.99,
        "learning_rate": 1e-2,
        "experiment": {**CEM_DEFAULT_CONFIG["experiment"], "write_interval": 0, "checkpoint_interval": 0},
    }
    policy = CategoricalPolicy(env.observation_space, env.action_space, activation=torch.nn.ReLU)
    memory = RandomMemory(rollouts, NUM_ENVS)
    agent = CEM({"policy": policy}, memory, env.observation_space, env.action_space, "cpu", cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    )

    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start

    assert deterministic_return(agent, "CartPole-v1", episodes=5) >= 475
    assert elapsed < 45  # ~9 s on the 2-core development VM
