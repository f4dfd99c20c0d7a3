"""TRPO learns CartPole and swings up Pendulum on the batched torch envs, judged on gymnasium's own.

Training runs on `rlblocks.envs.torch.batched` (hundreds of envs, wrapped without copies); the
deterministic evaluation plays gymnasium's `CartPole-v1` / `Pendulum-v1`.
"""

import time

import pytest

from rlblocks.agents.torch.trpo import TRPO
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole, Pendulum
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, Value
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def train_trpo(env, policy, cfg, timesteps):
    """Train TRPO with ``policy`` and a 64x64 value on ``env``; the caller seeds before building them."""
    models = {"policy": policy, "value": Value(env.observation_space, env.action_space)}
    memory = RandomMemory(cfg["rollouts"], env.num_envs)
    agent = TRPO(
        models, memory, env.observation_space, env.action_space, "cpu", {**cfg, "experiment": NO_LOGS}
    )
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    return agent, time.perf_counter() - start


def test_trpo_solves_batched_cartpole(one_torch_thread):
    """64 envs x 32 steps per policy step, δ = 0.02, 100 updates (205k env steps).

    Seeds 0-3 all reached 500 (8-14 s each on the 2-core development VM).
    """
    set_seed(0)
    env = wrap_env(CartPole(64, seed=0), verbose=False)
    cfg = {
        "rollouts": 32,
        "learning_epochs": 10,
        "mini_batches": 8,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "value_learning_rate": 1e-3,
        "max_kl_divergence": 0.02,
    }
    policy = CategoricalPolicy(env.observation_space, env.action_space)
    agent, elapsed = train_trpo(env, policy, cfg, timesteps=3200)
    assert deterministic_return(agent, "CartPole-v1", episodes=5) >= 475
    assert elapsed < 60


def test_trpo_swings_up_batched_pendulum(one_torch_thread):
    """256 envs x 32 steps per policy step, γ 0.9, δ = 0.02, scalers, 120 updates (983k env steps).

    A 32x32 policy halves the cost of the Fisher-vector products. Seed 0 ends at about −180 over 10
    fresh episodes (seed 1: −225), in 25-30 s.
    """
    set_seed(0)
    env = wrap_env(Pendulum(256, seed=0), verbose=False)
    cfg = {
        "rollouts": 32,
        "learning_epochs": 10,
        "mini_batches": 8,
        "discount_factor": 0.9,
        "lambda": 0.95,
        "value_learning_rate": 1e-3,
        "max_kl_divergence": 0.02,
        "state_preprocessor": RunningStandardScaler,
        "value_preprocessor": RunningStandardScaler,
    }
    policy = GaussianPolicy(env.observation_space, env.action_space, hidden=(32, 32))
    agent, elapsed = train_trpo(env, policy, cfg, timesteps=3840)
    assert deterministic_return(agent, "Pendulum-v1", episodes=10) >= -250
    assert elapsed < 60
