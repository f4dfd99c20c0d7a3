"""`rlblocks train/eval/export/algos` for CEM, Q-learning and SARSA, end to end on tiny budgets."""

from __future__ import annotations

import re

import pytest

from rlblocks.cli import build, registry
from rlblocks.cli import config as run_config
from rlblocks.cli.registry import CLIError
from tests.cli.test_cli import rlblocks

READY = {"cem": "CartPole-v1", "q_learning": "FrozenLake-v1", "sarsa": "Taxi-v4"}


@pytest.mark.parametrize("algo", sorted(READY))
def test_train_eval_and_export_a_ready_config(algo, tmp_path):
    run = tmp_path / algo
    result = rlblocks(
        "train", "--algo", algo, "--timesteps", "400", "--run-dir", str(run), "--no-progress", cwd=tmp_path
    )
    assert f"{algo} on {READY[algo]}" in result.stdout
    evaluated = rlblocks("eval", str(run), "--episodes", "2", cwd=tmp_path)
    assert re.search(r"return:\s+-?\d", evaluated.stdout)
    exported = rlblocks("export", str(run), "--format", "torchscript", cwd=tmp_path)
    assert "outputs match the eager policy" in exported.stdout


def test_algos_lists_the_three_with_their_ready_configs(tmp_path):
    listing = rlblocks("algos", cwd=tmp_path).stdout
    for algo, env_id in READY.items():
        assert re.search(rf"^{algo}\s+\S+\s+discrete actions; ready configs: {env_id}$", listing, re.M)


def agent_for(config):
    """The agent `rlblocks train` would build for ``config`` (one env, no run directory)."""
    environment = build.make_env(config, num_envs=1)
    spaces = environment.observation_space, environment.action_space
    environment.close()
    config = run_config.complete(config, spaces[1])
    return build.build_agent(config, *spaces, build.resolve_device("cpu"), None)


@pytest.mark.parametrize("algo", sorted(READY))
def test_the_default_env_of_each_is_its_ready_pair(algo):
    config = run_config.resolve(algo)
    assert config.env == READY[algo]
    assert set(agent_for(config).models) == {"policy"}


def test_a_tabular_algorithm_on_box_observations_is_a_clear_error():
    assert "q_learning" in registry.available_algorithms()
    with pytest.raises(CLIError, match="a tabular model needs a Discrete observation space"):
        agent_for(run_config.resolve("q_learning", "CartPole-v1"))
