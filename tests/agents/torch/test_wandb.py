"""Weights & Biases, offline: the run receives the TensorBoard scalars, not just the config."""

from __future__ import annotations

import glob
import os
import pathlib

import gymnasium as gym
import pytest

from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.models import CategoricalPolicy, Value

wandb = pytest.importorskip("wandb", reason="wandb is not installed")


def test_an_offline_run_holds_the_scalar_tags(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, None),
    }
    cfg = {
        "rollouts": 16,
        "mini_batches": 2,
        "experiment": {
            "directory": str(tmp_path),
            "experiment_name": "run",
            "write_interval": 16,
            "checkpoint_interval": 0,
            "wandb": True,
            "wandb_kwargs": {"mode": "offline", "project": "rlblocks-test"},
        },
    }
    agent = PPO(models, RandomMemory(16, 2), env.observation_space, env.action_space, "cpu", cfg)
    try:
        SequentialTrainer(env, agent, cfg={"timesteps": 64, "headless": True, "progress": "none"}).train()
    finally:
        wandb.finish()
    files = glob.glob(os.path.join(tmp_path, "run", "wandb", "offline-run-*", "*.wandb"))
    assert len(files) == 1, os.listdir(tmp_path / "run")
    content = pathlib.Path(files[0]).read_bytes()
    assert b"Loss / Policy loss" in content and b"Loss / Value loss" in content
