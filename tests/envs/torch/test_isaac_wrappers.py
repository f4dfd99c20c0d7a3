"""NVIDIA Isaac wrappers: contract tests against the torch fakes of tests/helpers/isaac_fakes.py.

The fake task (`CounterTask`, 3 envs): observation [count, env index]; env 0 terminates at count 2,
every env times out at count 4; reward = sum of the action row.
"""

import gymnasium
import pytest
import torch

from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.wrappers import (
    IsaacGymPreview2Wrapper,
    IsaacGymPreview3Wrapper,
    IsaacLabWrapper,
    IsaacOrbitWrapper,
    OmniverseIsaacGymWrapper,
)
from tests.helpers.isaac_fakes import DirectRLEnv, OrbitEnv, VecEnvMT, VecEnvRLGames, VecTask, VecTaskPython

FAKES = {
    "isaacgym-preview2": (VecTaskPython, IsaacGymPreview2Wrapper),
    "isaacgym-preview3": (VecTask, IsaacGymPreview3Wrapper),
    "omniverse-isaacgym": (VecEnvRLGames, OmniverseIsaacGymWrapper),
    "isaac-orbit": (OrbitEnv, IsaacOrbitWrapper),
    "isaaclab": (DirectRLEnv, IsaacLabWrapper),
}
ACTIONS = torch.tensor([[0.5, 0.5], [1.0, 0.0], [0.25, 0.0]])


def _run(env, steps):
    """(next_states, rewards, terminated, truncated) of each step, and the states acted on."""
    states = env.reset()[0]
    acted_on, outputs = [], []
    for _ in range(steps):
        acted_on.append(states)
        next_states, rewards, terminated, truncated, _ = env.step(ACTIONS)
        outputs.append((next_states, rewards, terminated, truncated))
        states = env.reset()[0]
    return acted_on, outputs


@pytest.mark.parametrize("tag", list(FAKES))
def test_auto_detection_and_tag_give_the_wrapper(tag):
    fake, wrapper = FAKES[tag]
    assert type(wrap_env(fake(), verbose=False)) is wrapper
    assert type(wrap_env(fake(), wrapper=tag, verbose=False)) is wrapper


def test_preview4_is_detected_as_preview3_and_has_its_own_tag():
    assert type(wrap_env(VecTask(), wrapper="isaacgym-preview4", verbose=False)) is IsaacGymPreview3Wrapper


def test_isaaclab_is_detected_inside_gymnasium_wrappers():
    env = gymnasium.Wrapper(DirectRLEnv())
    assert type(wrap_env(env, verbose=False)) is IsaacLabWrapper


@pytest.mark.parametrize("tag", list(FAKES))
def test_layout_dtypes_and_actions_passed_as_they_are(tag):
    fake = FAKES[tag][0]()
    env = wrap_env(fake, verbose=False)
    states, infos = env.reset()
    assert states.dtype == torch.float32 and states.shape == (3, 2) and infos == {}
    assert states.tolist() == [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0]]
    next_states, rewards, terminated, truncated, _ = env.step(ACTIONS)
    assert fake.task.actions[0] is ACTIONS
    assert next_states.tolist() == [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    assert rewards.dtype == torch.float32 and rewards.tolist() == [[1.0], [1.0], [0.25]]
    assert terminated.dtype == truncated.dtype == torch.bool
    assert terminated.shape == truncated.shape == (3, 1)
    assert env.num_envs == 3 and env.device == torch.device("cpu")


@pytest.mark.parametrize("tag", list(FAKES))
def test_reset_calls_the_env_once_then_returns_the_last_observations(tag):
    fake = FAKES[tag][0]()
    env = wrap_env(fake, verbose=False)
    assert env.is_reset_free
    first = env.reset()[0]
    assert env.reset()[0] is first
    next_states = env.step(ACTIONS)[0]
    assert env.reset()[0] is next_states
    assert fake.task.resets == 1


@pytest.mark.parametrize("tag", ["isaacgym-preview3", "omniverse-isaacgym", "isaac-orbit", "isaaclab"])
def test_time_outs_are_truncations_and_terminal_states_terminations(tag):
    env = wrap_env(FAKES[tag][0](), verbose=False)
    _, outputs = _run(env, 4)
    terminated = torch.cat([step[2] for step in outputs], dim=1)
    truncated = torch.cat([step[3] for step in outputs], dim=1)
    # env 0 terminates at count 2 (steps 2 and 4, whichever the reset timing); envs 1 and 2 time out at 4
    assert terminated.tolist() == [[False, True, False, True], [False] * 4, [False] * 4]
    assert truncated.tolist() == [[False] * 4, [False, False, False, True], [False, False, False, True]]


def test_preview2_reports_every_end_as_a_termination():
    env = wrap_env(VecTaskPython(), verbose=False)
    _, outputs = _run(env, 4)
    assert torch.cat([step[2] for step in outputs], dim=1)[:, 3].tolist() == [True, True, True]
    assert not any(step[3].any() for step in outputs)


@pytest.mark.parametrize("tag", ["isaacgym-preview2", "isaacgym-preview3", "omniverse-isaacgym"])
def test_isaacgym_returns_the_final_observation_and_resets_on_the_next_step(tag):
    env = wrap_env(FAKES[tag][0](), verbose=False)
    acted_on, outputs = _run(env, 3)
    assert outputs[1][0][0].tolist() == [2.0, 0.0]  # env 0's final observation, count 2
    assert acted_on[2][0].tolist() == [2.0, 0.0]  # the env resets it when stepped next
    assert outputs[2][0][0].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("tag", ["isaac-orbit", "isaaclab"])
def test_orbit_and_lab_return_the_reset_observation_of_ended_envs(tag):
    env = wrap_env(FAKES[tag][0](), verbose=False)
    acted_on, outputs = _run(env, 3)
    assert outputs[1][0][0].tolist() == [0.0, 0.0]  # reset within the step: no final observation
    assert acted_on[2][0].tolist() == [0.0, 0.0]
    assert outputs[2][0][0].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("tag", ["isaacgym-preview3", "omniverse-isaacgym", "isaac-orbit", "isaaclab"])
def test_state_returns_the_privileged_observations(tag):
    env = wrap_env(FAKES[tag][0](), verbose=False)
    env.reset()
    env.step(ACTIONS)
    assert env.state().tolist() == [[1.0, 0.0, 10.0], [1.0, 1.0, 10.0], [1.0, 2.0, 10.0]]
    assert wrap_env(VecTaskPython(), verbose=False).state() is None


def test_isaaclab_spaces_are_those_of_one_env():
    env = wrap_env(DirectRLEnv(), verbose=False)
    assert env.observation_space.shape == (2,) and env.action_space.shape == (2,)
    assert env.state_space.shape == (3,)
    without_critic = wrap_env(DirectRLEnv(critic=False), verbose=False)
    assert without_critic.state_space.shape == (2,) and without_critic.state() is None


def test_isaacgym_device_is_the_rl_device():
    fake = VecTask()
    assert fake.device == "cuda:0" and fake.rl_device == "cpu"
    assert wrap_env(fake, verbose=False).device == torch.device("cpu")
    assert wrap_env(VecTask(), verbose=False, device="meta").device == torch.device("meta")


def test_omniverse_run_and_close_reach_the_env():
    fake = VecEnvMT()
    env = wrap_env(fake, verbose=False)
    trainer = object()
    env.run(trainer)
    assert fake.ran_with is trainer
    env.close()
    assert fake.closed
    with pytest.raises(AttributeError, match="run is for the multi-threaded VecEnvMT"):
        wrap_env(VecEnvRLGames(), verbose=False).run(trainer)


@pytest.mark.parametrize("tag", list(FAKES))
def test_render_is_a_no_op_and_close_follows_skrl(tag):
    fake = FAKES[tag][0]()
    env = wrap_env(fake, verbose=False)
    assert env.render() is None
    env.close()
    assert fake.closed == (tag in ("omniverse-isaacgym", "isaac-orbit", "isaaclab"))


@pytest.mark.parametrize("tag", ["isaacgym-preview3", "isaaclab"])
def test_a_trainer_records_the_wrappers_transitions(tag):
    from tests.helpers.off_policy import make_agent, train

    env = wrap_env(FAKES[tag][0](), verbose=False)
    agent, env = make_agent("sac", env=env, cfg={"learning_starts": 100}, memory_size=8)
    train(agent, env, timesteps=8)
    states, next_states = agent.memory.tensors["states"], agent.memory.tensors["next_states"]
    assert states.shape == (8, 3, 2)
    if tag == "isaacgym-preview3":  # final observation returned; the env resets env 1 in step 5
        assert states[:, 1, 0].tolist() == [0, 1, 2, 3, 4, 1, 2, 3]
        assert next_states[:, 1, 0].tolist() == [1, 2, 3, 4, 1, 2, 3, 4]
    else:  # reset within the step: the reset observation is returned
        assert states[:, 1, 0].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
        assert next_states[:, 1, 0].tolist() == [1, 2, 3, 0, 1, 2, 3, 0]
    assert agent.memory.tensors["terminated"][:, 0, 0].tolist() == [False, True] * 4
    assert not agent.memory.tensors["terminated"][:, 1:].any()  # time-outs are not terminations
