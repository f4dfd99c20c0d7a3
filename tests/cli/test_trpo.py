"""`rlblocks train --algo trpo`: the ready CartPole config builds TRPO; a tiny run trains and evaluates."""

from __future__ import annotations

from rlblocks.cli import build, registry
from rlblocks.cli import config as run_config
from tests.cli.test_cli import rlblocks


def test_trpo_is_listed_and_defaults_to_its_cartpole_config():
    assert "trpo" in registry.available_algorithms()
    config = run_config.resolve("trpo")
    assert (config.algo, config.env) == ("trpo", "CartPole-v1")
    assert config.agent["max_kl_divergence"] == 0.02 and config.agent["rollouts"] == 256


def test_ready_config_builds_trpo_with_a_value_only_optimizer():
    config = run_config.resolve("trpo", "CartPole-v1")
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
    assert type(agent).__name__ == "TRPO" and agent.cfg.max_kl_divergence == 0.02
    assert agent.value_optimizer.param_groups[0]["params"] == list(agent.value.parameters())


def test_train_then_eval_a_tiny_trpo_run(tmp_path):
    """Two updates (2 envs x 16-step rollouts, 32 timesteps), then one deterministic episode."""
    run = tmp_path / "trpo"
    (tmp_path / "short.yaml").write_text("algo: trpo\nagent: {rollouts: 16, learning_epochs: 2}\n")
    args = ("--config", "short.yaml", "--timesteps", "32", "--num-envs", "2", "--run-dir", str(run))
    result = rlblocks("train", *args, "--no-progress", cwd=tmp_path)
    assert "rlblocks train: done" in result.stdout and "trpo on CartPole-v1" in result.stdout
    assert "algo: trpo" in (run / "config.yaml").read_text()
    evaluation = rlblocks("eval", str(run), "--episodes", "1", cwd=tmp_path)
    assert "deterministic policy" in evaluation.stdout
