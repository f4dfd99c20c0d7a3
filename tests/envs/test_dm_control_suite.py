"""dm_control suite tasks as gymnasium envs (`dm_control/<domain>-<task>-v0`), as the CLI makes them."""

import gymnasium
import numpy as np
import pytest

pytest.importorskip("dm_control.suite", reason="dm-control comes with the [dm] extra")

from rlblocks.cli import build
from rlblocks.envs.dm_control_suite import DMControlEnv, register_dm_control_envs


def test_every_suite_task_is_registered():
    from dm_control import suite

    assert register_dm_control_envs()
    assert all(
        f"dm_control/{domain}-{task}-v0" in gymnasium.envs.registry for domain, task in suite.ALL_TASKS
    )


def test_the_cli_registers_the_ids_by_itself():
    build.check_env_id("dm_control/cartpole-balance-v0")
    env = gymnasium.make("dm_control/cartpole-balance-v0")
    assert env.observation_space.shape == (5,) and env.action_space.shape == (1,)
    env.close()


def test_observations_are_the_sorted_spec_entries_and_seeds_repeat():
    env = DMControlEnv("cartpole", "balance")
    first, _ = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    np.testing.assert_array_equal(first, again)
    position, velocity = env._env.physics.bounded_position(), env._env.physics.velocity()
    np.testing.assert_allclose(first, np.concatenate([position, velocity]).astype(np.float32))
    assert first.dtype == np.float32


def test_the_time_limit_truncates():
    env = DMControlEnv("cartpole", "balance", task_kwargs={"time_limit": 0.03})
    env.reset(seed=0)
    ends = [env.step(np.zeros(1, np.float32))[2:4] for _ in range(3)]
    assert ends == [(False, False), (False, False), (False, True)]
