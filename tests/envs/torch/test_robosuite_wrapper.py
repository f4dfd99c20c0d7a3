"""RobosuiteWrapper on robosuite 1.5's Lift with a Panda: spaces, flattening, horizon, a smoke run."""

import numpy as np
import pytest
import torch

robosuite = pytest.importorskip("robosuite", reason="robosuite comes with the [robosuite] extra")

from rlblocks.envs.torch import wrap_env  # noqa: E402
from rlblocks.envs.torch.wrappers import RobosuiteWrapper  # noqa: E402
from tests.helpers.off_policy import make_agent, train  # noqa: E402


def make_lift(horizon=5):
    """robosuite 1.5: composite controller config (1.4's load_controller_config is gone)."""
    config = robosuite.load_composite_controller_config(controller="BASIC", robot="Panda")
    return robosuite.make(
        "Lift",
        robots="Panda",
        controller_configs=config,
        has_renderer=False,
        has_offscreen_renderer=False,
        use_camera_obs=False,
        reward_shaping=True,
        horizon=horizon,
    )


@pytest.fixture(scope="module")
def lift():
    env = make_lift()
    yield env
    env.close()


def test_auto_detection_and_spaces(lift):
    env = wrap_env(lift, verbose=False)
    assert type(env) is RobosuiteWrapper
    observations = lift.observation_spec()
    assert list(env.observation_space.spaces) == sorted(observations)
    assert env.observation_space["cube_pos"].shape == (3,)
    low, _ = lift.action_spec
    assert env.action_space.shape == (7,) and env.action_space.low.tolist() == low.tolist()


def test_observations_flattened_in_sorted_key_order(lift):
    env = wrap_env(lift, verbose=False)
    states, _ = env.reset()
    observation = lift._get_observations(force_update=True)
    expected = np.concatenate([np.ravel(observation[key]) for key in sorted(observation)])
    assert states.dtype == torch.float32 and states.shape == (1, expected.size)
    np.testing.assert_allclose(states[0].numpy(), expected, rtol=1e-6, atol=1e-6)


def test_keys_select_entries_and_unknown_keys_are_rejected(lift):
    env = RobosuiteWrapper(lift, keys=["robot0_proprio-state", "object-state"])
    states, _ = env.reset()
    assert states.shape == (1, 60)
    with pytest.raises(ValueError, match=r"keys \['cube_size'\] are not observed by Lift"):
        RobosuiteWrapper(lift, keys=["cube_size"])


def test_the_horizon_is_a_truncation(lift):
    env = wrap_env(lift, verbose=False)
    env.reset()
    ends = [[bool(flag) for flag in env.step(torch.zeros(1, 7))[2:4]] for _ in range(5)]
    assert ends == [[False, False]] * 4 + [[False, True]]


def test_sac_trains_for_a_few_hundred_steps_on_lift():
    env = wrap_env(make_lift(horizon=50), verbose=False)
    agent, env = make_agent("sac", env=env, cfg={"learning_starts": 50, "batch_size": 32}, memory_size=300)
    before = [parameter.detach().clone() for parameter in agent.policy.parameters()]
    train(agent, env, timesteps=300)
    assert any(not torch.equal(b, a) for b, a in zip(before, agent.policy.parameters()))
    assert len(agent.memory) == 300
    env.close()
