"""DDPG swings Pendulum up within a fixed budget and seed (deterministic policy, fresh episodes)."""

import pytest
import torch

from rlblocks.resources.noises.torch import OrnsteinUhlenbeckNoise
from tests.helpers.off_policy import train_from_scratch
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning


def test_ddpg_swings_up_pendulum():
    """γ 0.98, lr 1e-3, batch 256, Ornstein-Uhlenbeck exploration decaying over the run, 64x64 networks."""
    torch.set_num_threads(1)
    cfg = {
        "batch_size": 256,
        "discount_factor": 0.98,
        "random_timesteps": 1000,
        "learning_starts": 1000,
        "exploration": {"noise": OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.1, base_scale=1.0, device="cpu")},
    }
    agent = train_from_scratch("ddpg", "Pendulum-v1", cfg, 8000)
    mean_return = deterministic_return(agent, "Pendulum-v1", episodes=10)
    print(f"mean return {mean_return:.1f}")
    assert mean_return >= -250
