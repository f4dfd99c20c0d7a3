"""GymWrapper: the legacy gym APIs, with gym itself when installed and with look-alikes otherwise.

The look-alikes follow the old APIs (4-tuple step, reset returning only the observation, vector
envs that reset in the same step); they are wrapped with wrapper="gym" since they are not gym
classes. The real-gym tests are skipped when gym is not installed.
"""

import numpy as np
import pytest
import torch

from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.wrappers import GymWrapper
from tests.helpers.envs import CounterEnv


class OldApiCounterEnv:
    """CounterEnv behind gym < 0.26's API: reset() -> obs, step() -> (obs, reward, done, info)."""

    def __init__(self, max_steps=2, terminate_at=None):
        self.env = CounterEnv(max_steps=max_steps, terminate_at=terminate_at)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space

    def reset(self):
        return self.env.reset()[0]

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        if truncated:
            info["TimeLimit.truncated"] = True
        return observation, reward, terminated or truncated, info


class SameStepVectorEnv:
    """Counter envs behind gym's vector API: ended envs reset in the step, final obs in infos.

    `dict_infos=True` gives gym 0.26's (5-tuple step, dict infos with "final_observation");
    False gives gym 0.21's (4-tuple step, one info dict per env with "terminal_observation").
    """

    def __init__(self, lengths, dict_infos):
        self.envs = [CounterEnv(max_steps=length) for length in lengths]
        self.num_envs = len(self.envs)
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.dict_infos = dict_infos

    def reset(self):
        observations = np.stack([env.reset()[0] for env in self.envs])
        return (observations, {}) if self.dict_infos else observations

    def step(self, actions):
        results = [env.step(action) for env, action in zip(self.envs, actions)]
        observations, rewards, terminated, truncated = [], [], [], []
        final, infos = {}, []
        for index, (observation, reward, term, trunc, info) in enumerate(results):
            if term or trunc:
                final[index] = observation
                info = {**info, "terminal_observation": observation, "TimeLimit.truncated": trunc}
                observation = self.envs[index].reset()[0]
            observations.append(observation)
            rewards.append(reward)
            terminated.append(term)
            truncated.append(trunc)
            infos.append(info)
        observations = np.stack(observations)
        if not self.dict_infos:
            dones = np.logical_or(terminated, truncated)
            return observations, np.array(rewards), dones, infos
        final_observation = np.full(self.num_envs, None, dtype=object)
        for index, observation in final.items():
            final_observation[index] = observation
        has_final = np.array([observation is not None for observation in final_observation])
        vector_infos = {"final_observation": final_observation, "_final_observation": has_final}
        return observations, np.array(rewards), np.array(terminated), np.array(truncated), vector_infos


def test_old_single_env_api_splits_done_into_terminated_and_truncated():
    env = wrap_env(OldApiCounterEnv(max_steps=2), wrapper="gym", verbose=False)
    assert type(env) is GymWrapper and env.num_envs == 1
    states, infos = env.reset()
    assert states.tolist() == [[0.0]] and infos == {}
    env.step(torch.tensor([[1]]))
    next_states, rewards, terminated, truncated, _ = env.step(torch.tensor([[1]]))
    assert next_states.tolist() == [[2.0]] and rewards.tolist() == [[1.0]]
    assert not terminated.item() and truncated.item()
    env = wrap_env(OldApiCounterEnv(max_steps=5, terminate_at=1), wrapper="gym", verbose=False)
    env.reset()
    _, _, terminated, truncated, _ = env.step(torch.tensor([[1]]))
    assert terminated.item() and not truncated.item()


@pytest.mark.parametrize("dict_infos", [True, False], ids=["gym-0.26", "gym-0.21"])
def test_vector_env_returns_true_final_observations_and_cached_reset(dict_infos):
    env = wrap_env(SameStepVectorEnv([2, 3], dict_infos), wrapper="gym", verbose=False)
    assert env.num_envs == 2 and env.observation_space.shape == (1,)
    states, _ = env.reset()
    assert torch.equal(env.reset()[0], states)  # a second reset before a step: the cached obs
    for step in range(1, 8):
        next_states, _, terminated, truncated, _ = env.step(torch.ones(2, 1, dtype=torch.int64))
        assert torch.equal(next_states, states + 1)
        assert truncated.reshape(-1).tolist() == [step % 2 == 0, step % 3 == 0]
        assert not terminated.any()
        done = (terminated | truncated).reshape(-1, 1)
        states = env.reset()[0] if done.any() else next_states
        assert torch.equal(states, torch.where(done, torch.zeros_like(states), next_states))


def test_real_gym_cartpole():
    gym = pytest.importorskip("gym")
    env = wrap_env(gym.make("CartPole-v1"), verbose=False)
    assert type(env) is GymWrapper
    states, _ = env.reset()
    assert states.shape == (1, 4) and states.dtype == torch.float32
    next_states, rewards, terminated, truncated, _ = env.step(torch.tensor([[1]]))
    assert next_states.shape == (1, 4) and rewards.shape == terminated.shape == truncated.shape == (1, 1)


def test_real_gym_vector_env():
    gym = pytest.importorskip("gym")
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 2), verbose=False)
    states, _ = env.reset()
    assert states.shape == (2, 4) and env.observation_space.shape == (4,)
    for _ in range(30):
        next_states, _, terminated, truncated, _ = env.step(torch.ones(2, 1, dtype=torch.int64))
        states = env.reset()[0] if (terminated | truncated).any() else next_states
    assert states.shape == (2, 4)
