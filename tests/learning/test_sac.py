"""SAC swings Pendulum up within a fixed budget and seed (deterministic policy, fresh episodes)."""

import pytest
import torch

from tests.helpers.off_policy import train_from_scratch
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning

PENDULUM = {
    "batch_size": 256,
    "discount_factor": 0.98,
    "actor_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3,
    "random_timesteps": 1000,
    "learning_starts": 1000,
    "initial_entropy_value": 1.0,
}
"""rl-zoo3's Pendulum settings (γ 0.98, lr 1e-3, 1000 warm-up steps), small 64x64 networks."""


@pytest.mark.parametrize("squash_actions", [False, True], ids=["model-bounded", "squashed"])
def test_sac_swings_up_pendulum(squash_actions):
    """Model-bounded: the policy's mean is 2·tanh(·) and it clips its samples (skrl 0.10's way);
    squashed: the agent squashes an unbounded Gaussian with tanh and corrects the log-prob."""
    torch.set_num_threads(1)
    agent = train_from_scratch("sac", "Pendulum-v1", {**PENDULUM, "squash_actions": squash_actions}, 8000)
    mean_return = deterministic_return(agent, "Pendulum-v1", episodes=10)
    print(f"mean return {mean_return:.1f}")
    assert mean_return >= -250
