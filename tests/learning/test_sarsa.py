"""SARSA learns Taxi (gymnasium's current id, Taxi-v4), judged by its greedy policy's mean return."""

import time

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.agents.torch.sarsa import SARSA, SARSA_DEFAULT_CONFIG
from rlblocks.agents.torch.tabular import EpsilonGreedyTabularPolicy
from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed

pytestmark = pytest.mark.learning

ENV_ID = "Taxi-v4"  # the installed gymnasium refuses Taxi-v3 as deprecated, naming Taxi-v4


def greedy_mean_return(agent, episodes=100):
    env = gym.make(ENV_ID)
    agent.set_running_mode("eval")
    returns = []
    with torch.no_grad():
        for episode in range(episodes):
            observation, _ = env.reset(seed=episode)
            done, total = False, 0.0
            while not done:
                action = agent.act(torch.tensor([[observation]]), 0, 0)[0]
                observation, reward, terminated, truncated, _ = env.step(int(action.item()))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    return float(np.mean(returns))


def test_sarsa_learns_taxi():
    """8 envs filling one shared table, ε 0.1, α 0.1, γ 0.99, 25000 steps (200k env steps, ~20 s).

    A plain single-env numpy SARSA with these settings scored 7.7 after as many (200k) env steps.
    """
    set_seed(0)
    num_envs = 8
    vector_env = gym.make_vec(ENV_ID, num_envs, vectorization_mode="sync")
    vector_env.reset(seed=0)
    env = wrap_env(vector_env, verbose=False)
    policy = EpsilonGreedyTabularPolicy(env.observation_space, env.action_space, "cpu", 1, epsilon=0.1)
    cfg = {
        **SARSA_DEFAULT_CONFIG,
        "discount_factor": 0.99,
        "learning_rate": 0.1,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = SARSA({"policy": policy}, None, env.observation_space, env.action_space, "cpu", cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": 25000, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start

    assert greedy_mean_return(agent) >= 7.5
    assert elapsed < 50
