"""Every ready config builds its agent (in-process, no training), and config errors are clear."""

from __future__ import annotations

import pytest

from rlblocks.cli import build, registry
from rlblocks.cli import config as run_config
from rlblocks.cli.registry import CLIError


def split_pair(name: str) -> tuple[str, str] | None:
    """(algo, env id) of a ready config named "<algo>_<env id>" (algo names may hold "_"), else None."""
    for algo in sorted(registry.available_algorithms(), key=len, reverse=True):
        if name.startswith(f"{algo}_"):
            return algo, name[len(algo) + 1 :]
    return None


PAIRS = [name for name in run_config.packaged_config_names() if split_pair(name) is not None]


def test_the_standard_pairs_have_ready_configs():
    expected = {"ppo_CartPole-v1", "ppo_Pendulum-v1", "sac_Pendulum-v1", "td3_Pendulum-v1"}
    expected |= {"ddpg_Pendulum-v1", "dqn_CartPole-v1", "a2c_CartPole-v1", "trpo_CartPole-v1"}
    expected |= {"rpo_Pendulum-v1", "cem_CartPole-v1", "q_learning_FrozenLake-v1", "sarsa_Taxi-v4"}
    expected |= {"dqn_ALE-Pong-v5", "ppo_ALE-Pong-v5", "td3_HalfCheetah-v5"}
    expected |= {
        f"{algo}_{env}-v5" for algo in ("ppo", "sac") for env in ("HalfCheetah", "Hopper", "Walker2d", "Ant")
    }
    assert expected <= set(PAIRS)


@pytest.mark.parametrize("name", PAIRS)
def test_ready_config_builds_its_agent(name):
    algo, env_id = split_pair(name)
    env_id = run_config.packaged_config(name).get("env", env_id)  # "ALE-Pong-v5" is ALE/Pong-v5
    assert run_config.pair_name(algo, env_id) == name
    config = run_config.resolve(algo, env_id)
    assert (config.algo, config.env) == (algo, env_id)
    environment = build.make_env(config, num_envs=2)
    try:
        config = run_config.complete(config, environment.action_space)
        config.memory["memory_size"] = min(config.memory.get("memory_size", 1), 1000)  # no GBs of replay
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
    assert set(agent.models) == set(registry.get_algorithm(algo).roles)


def test_command_line_values_override_the_ready_config():
    config = run_config.resolve(
        "ppo", "CartPole-v1", overrides={"timesteps": 123, "num_envs": 3, "seed": None}
    )
    assert (config.timesteps, config.num_envs, config.seed) == (123, 3, 0)


def test_user_file_is_merged_key_by_key(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("models:\n  policy: {hiddens: [32]}\nagent:\n  learning_rate: 1.0e-4\n")
    config = run_config.resolve(config_file=str(path))
    assert config.models["policy"] == {"kind": "categorical", "hiddens": [32], "hidden_activation": "tanh"}
    assert config.agent["learning_rate"] == 1.0e-4 and config.agent["rollouts"] == 64


def test_classes_are_named_from_a_fixed_table_only():
    with pytest.raises(CLIError, match="unknown class \"os.system\"|unknown class 'os.system'"):
        registry.named_class("os.system")
    with pytest.raises(CLIError, match='did you mean "RunningStandardScaler"'):
        registry.named_class("RunningStandardScalar")


def test_unknown_model_entry_and_argument_name_the_nearest():
    config = run_config.from_dict({"models": {"polcy": {"kind": "categorical"}}})
    with pytest.raises(CLIError, match='did you mean "policy"'):
        run_config.complete(config, None)
    from rlblocks.cli.models import build_model

    with pytest.raises(CLIError, match='did you mean "hiddens"'):
        build_model("policy", {"kind": "categorical", "hidden": [4]}, 4, 2, "cpu")


def test_continuous_only_algorithms_default_to_pendulum():
    assert run_config.resolve("sac").env == "Pendulum-v1"
    assert run_config.resolve("dqn").env == "CartPole-v1"
    assert run_config.resolve().env == "CartPole-v1" and run_config.resolve().algo == "ppo"
