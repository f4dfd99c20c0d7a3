"""DQN and Double DQN balance CartPole within a fixed budget and seed (greedy policy, fresh episodes)."""

import pytest
import torch

from tests.helpers.off_policy import train_from_scratch
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning

TIMESTEPS = 40_000


@pytest.mark.parametrize("name", ["dqn", "ddqn"])
def test_dqn_balances_cartpole(name):
    """A 2x128 Q-network, batch 128, soft target updates every step, lr 1e-3 decaying linearly, rewards x0.1.

    skrl's loss is the mean squared TD error without gradient clipping; scaling the rewards keeps
    the TD errors (and so the steps) small, which makes the late policy stable.
    """
    torch.set_num_threads(1)
    cfg = {
        "batch_size": 128,
        "learning_rate": 1e-3,
        "learning_rate_scheduler": torch.optim.lr_scheduler.LinearLR,
        "learning_rate_scheduler_kwargs": {"start_factor": 1.0, "end_factor": 0.0, "total_iters": TIMESTEPS},
        "learning_starts": 1000,
        "polyak": 0.005,
        "target_update_interval": 1,
        "exploration": {"final_epsilon": 0.04, "timesteps": 1500},
        "rewards_shaper": lambda rewards, timestep, timesteps: rewards * 0.1,
    }
    agent = train_from_scratch(name, "CartPole-v1", cfg, TIMESTEPS, hidden=(128, 128))
    mean_return = deterministic_return(agent, "CartPole-v1", episodes=10)
    print(f"mean return {mean_return:.1f}")
    assert mean_return >= 400
