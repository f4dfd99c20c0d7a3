"""MLflow logging (a local file store): the run holds the agent's metrics at env-step steps and its config."""

from __future__ import annotations

import sys

import gymnasium as gym
import pytest

from rlblocks.agents.torch.metric_sinks import metric_name
from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.models import CategoricalPolicy, Value


def make_ppo(directory, **experiment):
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, None),
    }
    cfg = {
        "rollouts": 16,
        "experiment": {
            "directory": str(directory),
            "experiment_name": "run",
            "write_interval": 16,
            "checkpoint_interval": 0,
            **experiment,
        },
    }
    return PPO(models, RandomMemory(16, 2), env.observation_space, env.action_space, "cpu", cfg), env


def test_metric_names_follow_mlflow_rules():
    assert metric_name("Loss / Policy loss") == "Loss/Policy_loss"
    assert metric_name("Reward / Total reward (mean)") == "Reward/Total_reward__mean_"


def test_a_run_in_a_local_store_holds_the_metrics_and_the_config(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a plain directory store, for the test
    uri = (tmp_path / "mlruns").as_uri()
    agent, env = make_ppo(tmp_path, mlflow=True, mlflow_kwargs={"tracking_uri": uri, "experiment_name": "t"})
    try:
        SequentialTrainer(env, agent, cfg={"timesteps": 64, "headless": True, "progress": "none"}).train()
        run_id = agent.metric_sinks[0].run.info.run_id
    finally:
        mlflow.end_run()
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert run.data.params["rollouts"] == "16" and run.data.params["experiment.write_interval"] == "16"
    history = client.get_metric_history(run_id, "Loss/Policy_loss")
    assert [point.step for point in history] == [32, 64, 96, 128]  # env steps: timesteps 16, ..., 64 x 2 envs


def test_without_mlflow_installed_the_error_names_the_install_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    agent, env = make_ppo(tmp_path, mlflow=True)
    with pytest.raises(ImportError, match="pip install mlflow"):
        SequentialTrainer(env, agent, cfg={"timesteps": 4, "headless": True, "progress": "none"})
    assert not (tmp_path / "run").exists()
