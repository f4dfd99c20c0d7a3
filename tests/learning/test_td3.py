"""TD3 swings Pendulum up within a fixed budget and seed (deterministic policy, fresh episodes)."""

import pytest
import torch

from rlblocks.resources.noises.torch import GaussianNoise
from tests.helpers.off_policy import train_from_scratch
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning


def test_td3_swings_up_pendulum():
    """rl-zoo3's Pendulum settings (γ 0.98, lr 1e-3, N(0, 0.1²) noise), 64x64 nets, default smoothing."""
    torch.set_num_threads(1)
    cfg = {
        "batch_size": 256,
        "discount_factor": 0.98,
        "random_timesteps": 1000,
        "learning_starts": 1000,
        "exploration": {"noise": GaussianNoise(0.0, 0.1, "cpu"), "final_scale": 1.0},
    }
    agent = train_from_scratch("td3", "Pendulum-v1", cfg, 8000)
    mean_return = deterministic_return(agent, "Pendulum-v1", episodes=10)
    print(f"mean return {mean_return:.1f}")
    assert mean_return >= -250
