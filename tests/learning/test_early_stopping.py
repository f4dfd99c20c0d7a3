"""Early stopping on an evaluation return: PPO on the batched CartPole stops once solved, and its
``best_agent.pt`` (chosen by evaluation return) is a solved policy on gymnasium's CartPole-v1."""

import pytest

from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy, Value
from tests.learning.evaluation import deterministic_return

pytestmark = pytest.mark.learning

BUDGET = 3000
"""Timesteps allowed (x 256 envs); measured: evaluations 245, 383, 468, 500 at 100-400, so it stops at
400 (seed 0; 21 s on the loaded 2-core machine)."""


def make_agent(env, directory):
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    cfg = {
        "rollouts": 8,
        "learning_epochs": 4,
        "mini_batches": 8,
        "learning_rate": 1e-3,
        "entropy_loss_scale": 0.0,
        "experiment": {"directory": str(directory), "experiment_name": "run", "write_interval": 0,
                       "checkpoint_interval": 0},
    }  # fmt: skip
    return PPO(models, RandomMemory(8, env.num_envs), env.observation_space, env.action_space, "cpu", cfg)


def test_ppo_stops_at_the_return_threshold_and_keeps_the_best_evaluated_agent(one_torch_thread, tmp_path):
    set_seed(0)
    env = wrap_env(CartPole(256, seed=0), verbose=False)
    eval_env = wrap_env(CartPole(10, seed=123), verbose=False)  # 10 episodes side by side
    agent = make_agent(env, tmp_path)
    cfg = {"timesteps": BUDGET, "headless": True, "progress": "none"}
    cfg.update(eval_interval=100, eval_episodes=10, stop_at_return=475)
    trainer = SequentialTrainer(env, agent, cfg=cfg, eval_env=eval_env)
    trainer.train()
    assert agent.timestep < BUDGET, "the threshold was not reached within the budget"
    assert trainer.stop_reason.startswith("evaluation mean return")
    last = trainer.monitor.evaluations[-1]
    assert last.mean >= 475 and last.timestep == agent.timestep
    best = make_agent(env, tmp_path / "fresh")
    best.load(str(tmp_path / "run" / "checkpoints" / "best_agent.pt"), evaluation_only=True)
    assert best.timestep == agent.timestep  # the stopping evaluation was the best one
    assert deterministic_return(best, "CartPole-v1", episodes=5) >= 475
