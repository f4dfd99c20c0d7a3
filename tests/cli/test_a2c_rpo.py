"""`rlblocks train --algo a2c` / `--algo rpo`: the ready configs build, tiny runs train and evaluate."""

from __future__ import annotations

import pytest

from rlblocks.cli import build, registry
from rlblocks.cli import config as run_config
from tests.cli.test_cli import rlblocks


@pytest.mark.parametrize(("algo", "env_id"), [("a2c", "CartPole-v1"), ("rpo", "Pendulum-v1")])
def test_listed_and_default_to_their_ready_config(algo, env_id):
    assert algo in registry.available_algorithms()
    config = run_config.resolve(algo)
    assert (config.algo, config.env) == (algo, env_id)


@pytest.mark.parametrize(
    ("algo", "env_id", "class_name"), [("a2c", "CartPole-v1", "A2C"), ("rpo", "Pendulum-v1", "RPO")]
)
def test_ready_config_builds_the_agent(algo, env_id, class_name):
    config = run_config.resolve(algo, env_id)
    environment = build.make_env(config, num_envs=2)
    try:
        config = run_config.complete(config, environment.action_space)
        agent = build.build_agent(
            config,
            environment.observation_space,
            environment.action_space,
            build.resolve_device("cpu"),
            None,
            2,
        )
    finally:
        environment.close()
    assert type(agent).__name__ == class_name and set(agent.models) == {"policy", "value"}
    if algo == "rpo":
        assert agent.cfg.alpha == 0.5
    else:
        assert agent.cfg.mini_batches == 4 and agent.scheduler is not None


@pytest.mark.parametrize(("algo", "env_id"), [("a2c", "CartPole-v1"), ("rpo", "Pendulum-v1")])
def test_train_then_eval_a_tiny_run(tmp_path, algo, env_id):
    """Two updates (2 envs x 16-step rollouts, 32 timesteps), then one deterministic episode."""
    run = tmp_path / algo
    (tmp_path / "short.yaml").write_text(f"algo: {algo}\nagent: {{rollouts: 16, mini_batches: 2}}\n")
    args = ("--config", "short.yaml", "--timesteps", "32", "--num-envs", "2", "--run-dir", str(run))
    result = rlblocks("train", *args, "--no-progress", cwd=tmp_path)
    assert "rlblocks train: done" in result.stdout and f"{algo} on {env_id}" in result.stdout
    assert f"algo: {algo}" in (run / "config.yaml").read_text()
    evaluation = rlblocks("eval", str(run), "--episodes", "1", cwd=tmp_path)
    assert "deterministic policy" in evaluation.stdout
