"""`rlblocks tune`: a tiny study runs, prunes a bad trial, resumes, and its best config trains."""

from __future__ import annotations

import sys
import types

import pytest
import yaml
from typer.testing import CliRunner

from rlblocks.cli import app, build, registry, search_spaces
from rlblocks.cli import config as run_config
from rlblocks.cli import tune as tuning

runner = CliRunner()
TINY = ["--timesteps", "128", "--num-envs", "2", "--evaluations", "2", "--eval-episodes", "1"]
"""128 timesteps x 2 envs per trial, evaluated twice on one episode: seconds per trial."""


def invoke(*args: str, expect: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == expect, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    return result


def load_trials(study_dir):
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{study_dir / tuning.STUDY_FILE}"
    return optuna.load_study(study_name=tuning.STUDY_NAME, storage=storage).trials


def test_a_tiny_study_prunes_a_bad_trial_resumes_and_its_best_config_trains(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    study_dir = tmp_path / "study"
    reported: list[tuple[int, int]] = []

    def rigged(self, result):  # trial 2 plays badly: reported far below the others
        reported.append((self.trial.number, result.timestep))
        return -1000.0 if self.trial.number == 2 else result.mean

    monkeypatch.setattr(tuning.ReportToTrial, "value", rigged)
    common = ["tune", "--algo", "ppo", "--env", "CartPole-v1", *TINY, "--study-dir", str(study_dir)]
    result = invoke(*common, "--trials", "3", "--startup-trials", "2")

    trials = load_trials(study_dir)
    assert [trial.state.name for trial in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert trials[2].intermediate_values == {64: -1000.0}  # pruned at its first evaluation
    assert reported == [(0, 64), (0, 128), (1, 64), (1, 128), (2, 64)]  # trial 2 stopped training
    for trial in trials[:2]:
        assert set(trial.intermediate_values) == {64, 128}
        assert trial.value == trial.intermediate_values[128]  # the last evaluation's mean return
        assert trial.params.keys() == {parameter.key for parameter in search_spaces.search_space("ppo")}
    assert "trial 2: pruned at timestep 64" in result.output
    assert "rlblocks tune: done" in result.output and "2 complete, 1 pruned" in result.output

    best = max(trials[:2], key=lambda trial: trial.value)
    best_file = study_dir / tuning.BEST_CONFIG_FILE
    content = yaml.safe_load(best_file.read_text())
    assert {key: content[key] for key in ("algo", "env", "num_envs", "seed", "timesteps")} == {
        "algo": "ppo",
        "env": "CartPole-v1",
        "num_envs": 2,
        "seed": 0,
        "timesteps": 128,
    }
    assert content["agent"] == best.params  # PPO's keys are flat; a DQN's exploration nests
    assert f"trial {best.number} of the study" in best_file.read_text()
    assert (study_dir / "trials" / f"trial_{best.number}" / "checkpoints" / "best_agent.pt").is_file()

    monkeypatch.undo()
    result = invoke(*common, "--trials", "1", "--startup-trials", "2")  # the same study, one more trial
    trials = load_trials(study_dir)
    assert len(trials) == 4 and trials[3].state.name in ("COMPLETE", "PRUNED")
    assert trials[3].params != trials[0].params  # the resumed sampler does not repeat trial 0
    assert "1 this run" in result.output

    run = tmp_path / "run"
    invoke("train", "--config", str(best_file), "--timesteps", "64", "--run-dir", str(run), "--no-progress")
    saved = run_config.read_yaml(str(run / "config.yaml"))
    best = max((trial for trial in trials if trial.state.name == "COMPLETE"), key=lambda trial: trial.value)
    assert {key: saved["agent"][key] for key in best.params} == best.params
    assert saved["num_envs"] == 2 and saved["timesteps"] == 64


def test_a_study_made_with_other_settings_is_refused(tmp_path):
    pytest.importorskip("optuna")
    study_dir = tmp_path / "study"
    common = [
        "tune",
        "--num-envs",
        "2",
        "--evaluations",
        "1",
        "--eval-episodes",
        "1",
        "--study-dir",
        str(study_dir),
    ]
    invoke(*common, "--trials", "1", "--timesteps", "32")
    result = invoke(*common, "--trials", "1", "--timesteps", "64", expect=2)
    assert "error: the study in" in result.output
    assert "timesteps 32 (now 64)" in result.output and "another --study-dir" in result.output
    assert len(load_trials(study_dir)) == 1


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--trials", "0", "--trials must be an integer >= 1, got 0"),
        ("--eval-episodes", "0", "--eval-episodes must be an integer >= 1, got 0"),
        ("--evaluations", "0", "--evaluations must be an integer >= 1, got 0"),
        ("--startup-trials", "-1", "--startup-trials must be an integer >= 0, got -1"),
        ("--timesteps", "0", "--timesteps must be an integer >= 1, got 0"),
        ("--num-envs", "0", "--num-envs must be an integer >= 1, got 0"),
        ("--evaluations", "100", "--evaluations 100 exceeds --timesteps 10"),
    ],
)
def test_bad_values_are_one_error_line(tmp_path, option, value, message):
    pytest.importorskip("optuna")
    args = ["tune", "--study-dir", str(tmp_path / "study")]
    if option != "--timesteps":
        args += ["--timesteps", "10"]
    result = invoke(*args, option, value, expect=2)
    assert result.output.startswith(f"error: {message}")
    assert not (tmp_path / "study").exists()


def test_missing_optuna_names_the_install_command_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    result = invoke("tune", "--study-dir", str(tmp_path / "study"), expect=2)
    assert result.output.startswith("error: rlblocks tune needs optuna")
    assert "pip install optuna" in result.output
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize("algo", sorted(search_spaces.SEARCH_SPACES))
def test_every_suggestion_passes_the_typed_config(algo):
    optuna = pytest.importorskip("optuna")
    if algo not in registry.available_algorithms():
        pytest.skip(f"{algo} is not available")
    base = run_config.resolve(algo)
    environment = build.make_env(base, num_envs=1)
    try:
        base = run_config.complete(base, environment.action_space)
    finally:
        environment.close()
    agent_class = registry.get_algorithm(algo).agent_class
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):  # random corners of the space, not only TPE's picks
        trial = study.ask()
        overrides = search_spaces.suggest(trial, algo, base.timesteps)
        config = run_config.from_dict({**base.to_dict(), "agent": run_config.merge(base.agent, overrides)})
        cfg = run_config.agent_config(config, build.resolve_device("cpu"), None)
        typed = agent_class.CONFIG_CLASS.from_dict(cfg)
        for parameter in search_spaces.search_space(algo):
            *sections, name = parameter.key.split(".")
            value = typed.to_dict()
            for section in sections:
                value = value[section]
            assert value[name] == search_spaces_value(overrides, parameter.key)
        study.tell(trial, 0.0)


def search_spaces_value(overrides, dotted):
    for name in dotted.split("."):
        overrides = overrides[name]
    return overrides


def test_a_budget_fraction_is_stored_as_timesteps():
    trial = types.SimpleNamespace(suggest_float=lambda name, low, high: 0.25)
    parameter = search_spaces.Parameter("exploration.timesteps", "fraction", 0.05, 0.5)
    assert parameter.suggest(trial, 10_000) == 2_500
    assert parameter.suggest(trial, 2) == 1  # at least one timestep


def test_best_config_nests_sections_and_keeps_the_users_file():
    optuna = pytest.importorskip("optuna")
    base = run_config.resolve("dqn", "CartPole-v1", None, {"timesteps": 1000})
    params = {
        "learning_rate": 1e-3,
        "batch_size": 64,
        "exploration.final_epsilon": 0.05,
        "exploration.timesteps_fraction": 0.2,
        "target_update_interval": 500,
    }
    trial = optuna.trial.create_trial(params=params, distributions=_distributions(optuna, "dqn"), value=1.0)
    user_file = {
        "models": {"q_network": {"hiddens": [32]}},
        "agent": {"exploration": {"initial_epsilon": 0.5}},
    }
    content = tuning.best_config(trial, base, user_file)
    assert content["models"] == {"q_network": {"hiddens": [32]}}
    assert content["agent"] == {
        "exploration": {"initial_epsilon": 0.5, "final_epsilon": 0.05, "timesteps": 200},
        "learning_rate": 1e-3,
        "batch_size": 64,
        "target_update_interval": 500,
    }
    assert content["timesteps"] == 1000


def _distributions(optuna, algo):
    distributions = {}
    for parameter in search_spaces.search_space(algo):
        if parameter.kind == "choice":
            distributions[parameter.key] = optuna.distributions.CategoricalDistribution(parameter.choices)
        elif parameter.kind == "fraction":
            distributions[f"{parameter.key}_fraction"] = optuna.distributions.FloatDistribution(
                parameter.low, parameter.high
            )
        else:
            distributions[parameter.key] = optuna.distributions.FloatDistribution(
                parameter.low, parameter.high, log=parameter.kind == "log"
            )
    return distributions


def test_short_help_is_the_same_as_long_help():
    short, long = runner.invoke(app, ["tune", "-h"]), runner.invoke(app, ["tune", "--help"])
    assert short.exit_code == long.exit_code == 0 and short.output == long.output
    for option in ("--trials", "--timesteps", "--study-dir", "--seed", "--eval-episodes", "--num-envs"):
        assert option in short.output
