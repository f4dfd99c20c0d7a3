"""PPO reaches a return within a fixed budget and seed (deterministic policy, fresh episodes)."""

import functools

import gymnasium as gym
import pytest
import torch
from torch import nn

from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, Value
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def train_ppo(env_id, num_envs, policy, value, cfg, timesteps, seed=0):
    set_seed(seed)
    vector_env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync")
    vector_env.reset(seed=seed)
    env = wrap_env(vector_env, verbose=False)
    models = {
        "policy": policy(env.observation_space, env.action_space),
        "value": value(env.observation_space, env.action_space),
    }
    memory = RandomMemory(cfg["rollouts"], env.num_envs)
    agent = PPO(
        models, memory, env.observation_space, env.action_space, "cpu", {**cfg, "experiment": NO_LOGS}
    )
    SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    ).train()
    return agent


def test_ppo_solves_cartpole():
    """rl-zoo3 CartPole settings: 8 envs x 32 steps, 20 epochs, γ 0.98, λ 0.8, lr 1e-3 → 0, 100k steps."""
    timesteps, rollouts, epochs = 12_500, 32, 20
    cfg = {
        "rollouts": rollouts,
        "learning_epochs": epochs,
        "mini_batches": 1,
        "discount_factor": 0.98,
        "lambda": 0.8,
        "learning_rate": 1e-3,
        "value_loss_scale": 0.5,
        "learning_rate_scheduler": torch.optim.lr_scheduler.LinearLR,
        "learning_rate_scheduler_kwargs": {
            "start_factor": 1.0,
            "end_factor": 0.0,
            "total_iters": timesteps // rollouts * epochs,
        },
    }
    agent = train_ppo("CartPole-v1", 8, CategoricalPolicy, Value, cfg, timesteps)
    assert deterministic_return(agent, "CartPole-v1", episodes=5) >= 475


def test_ppo_swings_up_pendulum():
    """skrl's Pendulum example settings (scalers, KL-adaptive lr, γ 0.9), 4 envs x 1024 steps, ~100k steps."""
    cfg = {
        "rollouts": 1024,
        "learning_epochs": 10,
        "mini_batches": 32,
        "discount_factor": 0.9,
        "lambda": 0.95,
        "learning_rate": 1e-3,
        "learning_rate_scheduler": KLAdaptiveRL,
        "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
        "grad_norm_clip": 0.5,
        "value_loss_scale": 0.5,
        "state_preprocessor": RunningStandardScaler,
        "value_preprocessor": RunningStandardScaler,
    }
    policy = functools.partial(GaussianPolicy, activation=nn.ReLU, clip_actions=True, output_scale=2.0)
    value = functools.partial(Value, activation=nn.ReLU)
    agent = train_ppo("Pendulum-v1", 4, policy, value, cfg, timesteps=24 * 1024)
    assert deterministic_return(agent, "Pendulum-v1", episodes=10) >= -250
