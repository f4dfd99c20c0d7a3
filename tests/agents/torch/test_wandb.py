"""Weights & Biases, offline: the run receives the TensorBoard scalars, not just the config."""

from __future__ import annotations

import glob
import os
import pathlib
import time

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
    assert b"Loss / Policy loss" in run_file_content(files[0], b"Loss / Value loss")


def run_file_content(path, expected, seconds=60.0):
    """The run file once it holds ``expected`` (wandb's service may still be writing it on a busy
    machine), or its content after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        content = pathlib.Path(path).read_bytes()
        if expected in content or time.monotonic() > deadline:
            return content
        time.sleep(0.5)
