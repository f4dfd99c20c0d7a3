"""make_atari_env: gymnasium's own Atari preprocessing over ale-py, uint8 frame stacks as torch tensors."""

import gymnasium
import pytest
import torch

pytest.importorskip("ale_py", reason="Atari tests need ale-py: pip install 'rlblocks[atari]'")
pytest.importorskip("cv2", reason="AtariPreprocessing needs opencv-python: pip install 'rlblocks[atari]'")

from rlblocks.envs.torch import make_atari_env
from rlblocks.envs.torch.atari import is_atari_env, make_atari_vector_env


def test_frames_are_stacked_uint8_84x84_and_stay_uint8_through_steps():
    env = make_atari_env("ALE/Pong-v5", num_envs=2, seed=0)
    try:
        states, _ = env.reset()
        assert states.dtype == torch.uint8 and states.shape == (2, 4, 84, 84)
        next_states, rewards, terminated, truncated, _ = env.step(torch.zeros(2, 1, dtype=torch.int64))
        assert next_states.dtype == torch.uint8 and next_states.shape == (2, 4, 84, 84)
        assert rewards.shape == terminated.shape == truncated.shape == (2, 1)
        # the newest frame of the stack follows the previous ones: the stack shifted by one
        assert torch.equal(next_states[:, :3], states[:, 1:])
    finally:
        env.close()


def test_the_wrappers_are_gymnasiums_own():
    env = make_atari_vector_env("ALE/Pong-v5", num_envs=1)
    try:
        inner = env.envs[0]
        assert isinstance(inner, gymnasium.wrappers.FrameStackObservation)
        assert isinstance(inner.env, gymnasium.wrappers.AtariPreprocessing)
        assert inner.unwrapped._frameskip == 1  # AtariPreprocessing skips the frames itself
    finally:
        env.close()


def test_atari_ids_are_recognised():
    assert is_atari_env("ALE/Pong-v5") and is_atari_env("PongNoFrameskip-v4")
    assert not is_atari_env("CartPole-v1")
