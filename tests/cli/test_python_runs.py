"""One workflow: a run made from Python is a run directory the CLI accepts; `rlblocks.train`/`evaluate`."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import gymnasium
import pytest
import torch
import yaml

import rlblocks
from rlblocks.agents.torch.ppo import PPO
from rlblocks.cli.python_runs import describe
from rlblocks.cli.registry import CLIError
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils.model_instantiators import Shape, categorical_model, deterministic_model
from tests.cli.test_cli import ROOT
from tests.cli.test_cli import rlblocks as run_cli
from tests.helpers.models import CategoricalPolicy, Value

TIMESTEPS = 64


def python_run(directory: pathlib.Path, name: str, instantiated: bool = True):
    """PPO on CartPole-v1 (2 envs) trained from Python for 64 timesteps, as the README shows."""
    env = wrap_env(gymnasium.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    if instantiated:
        policy = categorical_model(
            env.observation_space, env.action_space, "cpu", hiddens=[16], hidden_activation="tanh"
        )
        value = deterministic_model(
            env.observation_space, env.action_space, "cpu", hiddens=[16], hidden_activation="tanh",
            output_shape=Shape.ONE, output_activation=None,
        )  # fmt: skip
    else:
        policy = CategoricalPolicy(env.observation_space, env.action_space, hidden=(16,))
        value = Value(env.observation_space, env.action_space, hidden=(16,))
    cfg = {
        "rollouts": 16,
        "mini_batches": 2,
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": env.observation_space, "device": "cpu"},  # skrl's example style
        "experiment": {
            "directory": str(directory), "experiment_name": name,
            "write_interval": 16, "checkpoint_interval": 32,
        },
    }  # fmt: skip
    agent = PPO(
        {"policy": policy, "value": value},
        RandomMemory(16, env.num_envs),
        env.observation_space,
        env.action_space,
        "cpu",
        cfg,
    )
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": TIMESTEPS, "headless": True, "progress": "none"}
    )
    trainer.train()
    return agent, env, directory / name


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("python_runs")


@pytest.fixture(scope="module")
def made(workdir):
    return python_run(workdir, "instantiated")


def test_a_python_run_gets_the_config_yaml_the_cli_writes(made):
    agent, env, run = made
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert (config["algo"], config["env"], config["num_envs"], config["timesteps"]) == (
        "ppo",
        "CartPole-v1",
        2,
        64,
    )
    assert config["models"]["policy"]["kind"] == "categorical"
    assert config["models"]["policy"]["hiddens"] == [16]
    assert config["models"]["value"]["output_shape"] == "ONE"
    assert config["agent"]["state_preprocessor"] == "RunningStandardScaler"
    assert config["agent"]["state_preprocessor_kwargs"] == {}
    assert "directory" not in config["agent"]["experiment"]
    assert describe(agent, env, TIMESTEPS).models == config["models"]


def test_eval_export_and_plot_accept_a_python_run(made, workdir):
    _, _, run = made
    evaluated = run_cli("eval", str(run), "--episodes", "2", cwd=workdir)
    assert "episodes:   2" in evaluated.stdout
    exported = run_cli("export", str(run), "--format", "torchscript", cwd=workdir)
    assert (run / "policy.torchscript").exists() or "policy" in exported.stdout
    plotted = run_cli("plot", str(run), "--output", str(workdir / "curve.png"), cwd=workdir)
    assert "wrote" in plotted.stdout


def test_a_run_with_custom_models_says_what_cannot_be_rebuilt(workdir):
    _, _, run = python_run(workdir, "custom", instantiated=False)
    assert not (run / "config.yaml").exists()
    result = run_cli("eval", str(run), cwd=workdir, expect=2)
    assert "made from Python and the CLI cannot rebuild its agent" in result.stderr
    assert "the 'policy' model is a tests.helpers.models.CategoricalPolicy" in result.stderr
    assert (
        "rlblocks.utils.model_instantiators" in result.stderr
        and "rlblocks.evaluate(agent, env)" in result.stderr
    )


def test_evaluate_an_agent_or_a_run(made):
    agent, _, run = made
    first = rlblocks.evaluate(agent, "CartPole-v1", episodes=3, seed=5)
    mean, std, returns = first
    assert len(returns) == 3 and mean == pytest.approx(sum(returns) / 3) and std >= 0
    assert rlblocks.evaluate(agent, "CartPole-v1", episodes=3, seed=5).returns == returns  # deterministic
    from_run = rlblocks.evaluate(str(run), episodes=2, seed=5)
    assert len(from_run.returns) == 2 and all(value >= 8 for value in from_run.returns)
    with pytest.raises(ValueError, match="an agent needs an env to play in"):
        rlblocks.evaluate(agent)


def test_train_from_python_is_the_cli_run(tmp_path):
    threads = torch.get_num_threads()
    run = rlblocks.train(
        algo="ppo",
        env="CartPole-v1",
        timesteps=40,
        config={"num_envs": 2, "agent": {"learning_rate": 0.002}},
        run_dir=str(tmp_path / "run"),
        progress=False,
    )
    assert run.timestep == 40 and isinstance(run.agent, PPO)
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert (config["num_envs"], config["agent"]["learning_rate"]) == (2, 0.002)
    assert torch.get_num_threads() == threads
    assert "rlblocks train: done" in rlblocks.workflow.summary(run)


def test_importing_rlblocks_stays_light():
    code = "import sys, rlblocks; assert 'torch' not in sys.modules; assert callable(rlblocks.evaluate)"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=environment, timeout=120)


def test_an_off_policy_agent_with_noises_and_env_kwargs_is_described_and_rebuilt():
    from rlblocks.agents.torch.td3 import TD3
    from rlblocks.cli import build
    from rlblocks.resources.noises.torch import GaussianNoise

    vector = gymnasium.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync", g=9.5)
    env = wrap_env(vector, verbose=False)

    def actor():
        return deterministic_model(
            env.observation_space, env.action_space, "cpu", hiddens=[8], output_scale=2.0
        )

    def critic():
        return deterministic_model(
            env.observation_space, env.action_space, "cpu", input_shape=Shape.STATES_ACTIONS, hiddens=[8],
            output_shape=Shape.ONE, output_activation=None,
        )  # fmt: skip

    roles = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    models = {"policy": actor(), "target_policy": actor(), **{role: critic() for role in roles}}
    cfg = {"exploration": {"noise": GaussianNoise(0.0, 0.1, "cpu")}}
    agent = TD3(models, RandomMemory(1000, 2), env.observation_space, env.action_space, "cpu", cfg)
    config = describe(agent, env, 100)
    assert (config.algo, config.env, config.env_kwargs, config.memory) == (
        "td3",
        "Pendulum-v1",
        {"g": 9.5},
        {"memory_size": 1000},
    )
    assert config.agent["exploration"]["noise"] == {"class": "GaussianNoise", "mean": 0.0, "std": 0.1}
    assert config.models["policy"]["output_scale"] == 2.0
    rebuilt = build.build_agent(config, env.observation_space, env.action_space, torch.device("cpu"), None)
    assert type(rebuilt) is TD3 and rebuilt.cfg.exploration.noise.std == pytest.approx(0.1)
    env.close()


def test_the_next_python_run_in_a_directory_rewrites_its_description_but_not_a_cli_config(tmp_path):
    _, _, run = python_run(tmp_path, "again")
    assert (run / "config.yaml").read_text().startswith("# written by the trainer: a run made from Python")
    python_run(tmp_path, "again", instantiated=False)  # now custom models: the old description goes
    assert not (run / "config.yaml").exists() and (run / "not_rebuildable.txt").exists()
    python_run(tmp_path, "again")
    assert (run / "config.yaml").exists() and not (run / "not_rebuildable.txt").exists()
    cli_config = "algo: ppo\n# end of config.yaml (rlblocks)\n"
    (run / "config.yaml").write_text(cli_config)
    python_run(tmp_path, "again")
    assert (run / "config.yaml").read_text() == cli_config


@pytest.mark.parametrize("export_format", ["torchscript", "onnx"])
def test_export_from_python_checks_parity_like_the_command(made, tmp_path, export_format):
    _, _, run = made
    output = str(tmp_path / f"policy.{export_format}")
    result = rlblocks.export(run, format=export_format, output=output)
    assert result.path == output and os.path.isfile(output)
    assert result.matches and result.max_abs_difference <= 1e-5
    with pytest.raises(CLIError, match="unknown export format 'tflite'"):
        rlblocks.export(run, format="tflite")
