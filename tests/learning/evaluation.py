"""Deterministic evaluation shared by the learning tests."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from rlblocks.trainers.torch.evaluation import evaluation_step


def deterministic_return(agent, env_id: str, episodes: int = 5, seed: int = 1000) -> float:
    """Mean return of the agent's deterministic policy over `episodes` fresh episodes of `env_id`.

    Every step is recorded (`evaluation_step`): a recurrent policy carries its states through an
    episode and starts the next one from zero states.
    """
    env = gym.make(env_id)
    agent.set_running_mode("eval")
    agent.set_mode("eval")
    returns = []
    for episode in range(episodes):
        states = _as_states(env.reset(seed=seed + episode)[0])
        total, done = 0.0, False
        while not done:
            step = evaluation_step(agent, states, _single_env_step(env))
            states = step.next_states
            total += float(step.rewards)
            done = bool(step.terminated | step.truncated)
        returns.append(total)
    env.close()
    agent.set_running_mode("train")
    return float(np.mean(returns))


def _single_env_step(env: gym.Env):
    """A plain env's ``step`` as `evaluation_step` calls it: (1, A) actions in, (1, ·) tensors out."""

    def step(actions: torch.Tensor):
        action = actions[0].cpu().numpy()
        if isinstance(env.action_space, gym.spaces.Discrete):
            action = int(action.item())
        observation, reward, terminated, truncated, _ = env.step(action)
        flags = [torch.tensor([[bool(flag)]]) for flag in (terminated, truncated)]
        return _as_states(observation), torch.tensor([[float(reward)]]), *flags, {}

    return step


def _as_states(observation) -> torch.Tensor:
    return torch.as_tensor(np.asarray(observation, dtype=np.float32)).view(1, -1)


def batched_first_episode_return(agent, env, steps: int) -> float:
    """Mean return of each env's first episode over ``steps`` deterministic steps of a wrapped batched env.

    Every env's episode must end within ``steps`` (or be cut there). Steps are recorded
    (`evaluation_step`), so recurrent states are carried and zeroed at episode ends.
    """
    agent.set_running_mode("eval")
    agent.set_mode("eval")
    states, _ = env.reset()
    alive = torch.ones(env.num_envs, 1, dtype=torch.bool)
    returns = torch.zeros(env.num_envs, 1)
    for t in range(steps):
        step = evaluation_step(agent, states, env.step, t, steps)
        returns += step.rewards.to(returns.dtype) * alive
        alive &= ~(step.terminated | step.truncated)
        states = step.next_states
    agent.set_running_mode("train")
    return returns.mean().item()
