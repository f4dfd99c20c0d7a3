"""Velocity-less CartPole and Pendulum: exactly the position columns of the full observation."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole, Pendulum
from rlblocks.envs.torch.wrappers.partial_observability import BatchedVelocityRemoved, VelocityRemoved


@pytest.mark.parametrize(("env_id", "kept"), [("CartPole-v1", [0, 2]), ("Pendulum-v1", [0, 1])])
def test_gymnasium_env_keeps_the_position_columns(env_id, kept):
    full, partial = gym.make(env_id), VelocityRemoved(gym.make(env_id))
    observation, _ = full.reset(seed=3)
    cut, _ = partial.reset(seed=3)
    np.testing.assert_array_equal(cut, observation[kept])
    assert partial.observation_space.shape == (2,)
    np.testing.assert_array_equal(partial.observation_space.low, full.observation_space.low[kept])
    action = full.action_space.sample()
    np.testing.assert_array_equal(partial.step(action)[0], full.step(action)[0][kept])


def test_unknown_task_needs_the_columns():
    with pytest.raises(ValueError, match="no known velocity columns for 'MountainCar'"):
        VelocityRemoved(gym.make("MountainCar-v0"))
    assert VelocityRemoved(gym.make("MountainCar-v0"), velocity_columns=[1]).observation_space.shape == (1,)


@pytest.mark.parametrize(("env_class", "kept"), [(CartPole, [0, 2]), (Pendulum, [0, 1])])
def test_batched_env_cuts_observations_and_final_observations(env_class, kept):
    full, partial = (
        env_class(6, max_episode_steps=3, seed=0),
        BatchedVelocityRemoved(env_class(6, max_episode_steps=3, seed=0)),
    )
    torch.testing.assert_close(partial.reset()[0], full.reset()[0][:, kept])
    actions = torch.zeros(6, dtype=torch.long) if env_class is CartPole else torch.zeros(6, 1)
    for _ in range(3):  # the third step truncates every env
        expected = full.step(actions)
        got = partial.step(actions)
        torch.testing.assert_close(got[0], expected[0][:, kept])
        torch.testing.assert_close(got[4]["final_obs"], expected[4]["final_obs"][:, kept])
    assert bool(got[3].all())
    wrapped = wrap_env(partial, verbose=False)
    assert wrapped.observation_space.shape == (2,) and wrapped.num_envs == 6
