"""wrap_env: detection, tags, device, attribute forwarding."""

import logging

import gymnasium
import pytest
import torch
from gymnasium.vector import SyncVectorEnv

from rlblocks.envs.torch import Wrapper, wrap_env
from rlblocks.envs.torch.wrappers import GymnasiumWrapper
from tests.helpers.envs import CounterEnv, make_counter_env


def test_auto_detects_gymnasium_single_and_vector_envs():
    assert type(wrap_env(CounterEnv(), verbose=False)) is GymnasiumWrapper
    assert type(wrap_env(SyncVectorEnv([make_counter_env()]), verbose=False)) is GymnasiumWrapper
    assert type(wrap_env(CounterEnv(), wrapper="gymnasium", verbose=False)) is GymnasiumWrapper


def test_a_wrapper_is_returned_unchanged():
    wrapped = wrap_env(CounterEnv(), verbose=False)
    assert wrap_env(wrapped) is wrapped


def test_unknown_tag_lists_the_supported_ones_with_the_nearest():
    with pytest.raises(ValueError, match=r'Unknown wrapper type "gymnasum" \(did you mean "gymnasium"\?\)'):
        wrap_env(CounterEnv(), wrapper="gymnasum")
    with pytest.raises(ValueError, match='supported wrappers: "auto", "gym", "gymnasium"'):
        wrap_env(CounterEnv(), wrapper="mujoco")


def test_every_skrl_tag_has_a_wrapper():
    from rlblocks.envs.torch.wrappers import WRAPPERS

    skrl_tags = ["gym", "gymnasium", "dm", "robosuite", "isaacgym-preview2", "isaacgym-preview3"]
    skrl_tags += ["isaacgym-preview4", "omniverse-isaacgym", "isaac-orbit"]
    assert set(skrl_tags) <= set(WRAPPERS)
    assert "isaaclab" in WRAPPERS


def test_auto_rejects_an_unknown_env_type():
    class NotAnEnv:
        pass

    with pytest.raises(ValueError, match='cannot tell which wrapper fits NotAnEnv.*wrapper="gymnasium"'):
        wrap_env(NotAnEnv())


def test_verbose_logs_the_class_and_the_wrapper(caplog):
    with caplog.at_level(logging.INFO, logger="rlblocks"):
        wrap_env(CounterEnv(), verbose=True)
    assert "Environment class: CounterEnv (bases: gymnasium.core.Env)" in caplog.text
    assert "Environment wrapper: GymnasiumWrapper" in caplog.text


def test_device_comes_from_the_argument_or_the_env():
    assert wrap_env(CounterEnv(), verbose=False).device == torch.device("cpu")
    assert wrap_env(CounterEnv(), verbose=False, device="meta").device == torch.device("meta")
    env = CounterEnv()
    env.device = "meta"
    assert wrap_env(env, verbose=False).device == torch.device("meta")


def test_attributes_are_forwarded_to_the_env_and_through_gymnasium_wrappers():
    env = wrap_env(gymnasium.wrappers.TimeLimit(CounterEnv(max_steps=7), 100), verbose=False)
    assert env.max_steps == 7  # an attribute of the inner env, via get_wrapper_attr
    assert env.spec is None  # an attribute of the outer gymnasium wrapper


def test_missing_attribute_error_names_the_env_class():
    env = wrap_env(CounterEnv(), verbose=False)
    message = r"Wrapped environment \(CounterEnv\) does not have attribute 'nope'"
    with pytest.raises(AttributeError, match=message):
        _ = env.nope


def test_state_space_falls_back_to_the_observation_space():
    env = wrap_env(CounterEnv(), verbose=False)
    assert env.state_space == env.observation_space
    inner = CounterEnv()
    inner.state_space = gymnasium.spaces.Box(0, 1, (5,))
    assert wrap_env(inner, verbose=False).state_space.shape == (5,)


def test_base_wrapper_reset_and_step_are_abstract():
    with pytest.raises(NotImplementedError):
        Wrapper(CounterEnv()).reset()


def test_device_of_an_env_inside_gymnasium_wrappers():
    inner = CounterEnv()
    inner.device = "meta"
    assert wrap_env(gymnasium.wrappers.TimeLimit(inner, 10), verbose=False).device == torch.device("meta")
