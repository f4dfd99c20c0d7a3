"""Deterministic evaluation shared by the learning tests."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch


def deterministic_return(agent, env_id: str, episodes: int = 5, seed: int = 1000) -> float:
    """Mean return of the agent's deterministic policy over `episodes` fresh episodes of `env_id`."""
    env = gym.make(env_id)
    agent.set_running_mode("eval")
    agent.set_mode("eval")
    returns = []
    with torch.no_grad():
        for episode in range(episodes):
            observation, _ = env.reset(seed=seed + episode)
            total, done = 0.0, False
            while not done:
                states = torch.as_tensor(np.asarray(observation, dtype=np.float32)).view(1, -1)
                actions = agent.act(states, timestep=0, timesteps=0)[0]
                action = actions[0].cpu().numpy()
                if isinstance(env.action_space, gym.spaces.Discrete):
                    action = int(action.item())
                observation, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    env.close()
    agent.set_running_mode("train")
    return float(np.mean(returns))
