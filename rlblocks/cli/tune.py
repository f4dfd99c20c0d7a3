"""`rlblocks tune`: search an algorithm's hyperparameters on an env with Optuna.

Each trial trains the run config (the ready config of the pair, the user's ``--config`` over it)
with the agent keys of `rlblocks.cli.search_spaces` suggested by Optuna's TPE sampler (seeded),
for ``timesteps`` trainer timesteps. The trainer evaluates the deterministic policy on a separate
env (``eval_episodes`` episodes, seed + 1000) ``evaluations`` times during the trial
(`rlblocks.trainers.torch.monitor`); each evaluation's mean return is reported to the trial, and
Optuna's median pruner stops a trial whose return falls below the median of the earlier trials at
the same timestep (once ``startup_trials`` trials have finished). A finished trial's value is its
last evaluation's mean return.

Layout of the study directory::

    study.db            the Optuna study (sqlite): running tune again on the directory adds
                        trials to it; the settings it was made with must not change
    best_config.yaml    the best finished trial as a config file: rlblocks train --config FILE
    trials/trial_<n>/   each trial's run directory (config.yaml, checkpoints/best_agent.pt, the
                        agent of its best evaluation): rlblocks eval and export accept it
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from rlblocks.cli import build, search_spaces
from rlblocks.cli import config as run_config
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError
from rlblocks.trainers.torch.callbacks import Callback
from rlblocks.utils.checkpoint import atomic_write_text

STUDY_NAME = "rlblocks"
STUDY_FILE = "study.db"
BEST_CONFIG_FILE = "best_config.yaml"
TRIALS_DIR = "trials"
INSTALL_HINT = "pip install optuna (or pip install 'rlblocks[tune]')"
EVAL_SEED_OFFSET = 1000
"""The evaluation env's seed is the run's seed plus this (episodes unseen in training)."""
SETTINGS = ("algo", "env", "timesteps", "num_envs", "seed", "evaluations", "eval_episodes")
"""What a study is made with, kept in it (its user attributes); a resumed study must match them."""


@dataclass
class TuneResult:
    """What the end-of-study summary reports."""

    study_dir: str
    counts: dict[str, int]
    """Trials of the study by state ("COMPLETE", "PRUNED", "FAIL", ...), earlier runs included."""
    new_trials: int
    best_trial: int | None
    best_value: float | None
    best_config: str | None
    wall_seconds: float
    settings: dict[str, Any]
    interrupted: bool = False


def import_optuna() -> Any:
    """The optuna module.

    Raises:
        CLIError: optuna is not installed (the message names the install command).
    """
    try:
        import optuna
    except ImportError as error:
        raise CLIError(
            f"rlblocks tune needs optuna, which cannot be imported ({error}); {INSTALL_HINT}"
        ) from None
    return optuna


def check_count(name: str, value: Any, low: int) -> None:
    """Raise unless ``value`` is an int >= ``low`` (``name`` is the option, e.g. "--trials").

    Raises:
        CLIError: naming the value received and what is accepted.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise CLIError(f"{name} must be an integer >= {low}, got {value!r}")


def tune(
    algo: str | None = None,
    env: str | None = None,
    config_file: str | None = None,
    trials: int = 20,
    timesteps: int | None = None,
    study_dir: str | None = None,
    seed: int | None = None,
    eval_episodes: int = 5,
    evaluations: int = 5,
    startup_trials: int = 5,
    num_envs: int | None = None,
    device: str | None = None,
    log: Callable[[str], None] = print,
) -> TuneResult:
    """Run ``trials`` more trials of the study in ``study_dir`` (created if new) and write its best config.

    Args:
        algo: the algorithm (default ppo).
        env: the gymnasium id (default: the algorithm's).
        config_file: a YAML file over the ready config, as for ``rlblocks train --config``.
        trials: trials to run now (a resumed study keeps its earlier ones).
        timesteps: trainer timesteps per trial (default: the config's).
        study_dir: the study directory (default ``studies/<algo>_<env>``).
        seed: the training seed of every trial and the sampler's (default: the config's).
        eval_episodes: deterministic episodes per evaluation.
        evaluations: evaluations per trial, each reported to the pruner.
        startup_trials: trials that finish before the median pruner may stop one.
        num_envs: training envs (default: the config's).
        device: the torch device (default: the config's).
        log: called with a line after each trial.

    Raises:
        CLIError: optuna missing, a bad option, a study made with other settings, or a bad config.
    """
    optuna = import_optuna()
    for name, value, low in (
        ("--trials", trials, 1),
        ("--eval-episodes", eval_episodes, 1),
        ("--evaluations", evaluations, 1),
        ("--startup-trials", startup_trials, 0),
    ):
        check_count(name, value, low)
    for name, value in (("--timesteps", timesteps), ("--num-envs", num_envs)):
        if value is not None:
            check_count(name, value, 1)
    overrides = {"timesteps": timesteps, "num_envs": num_envs, "seed": seed, "device": device}
    base = run_config.resolve(algo, env, config_file, overrides)
    if base.algo not in search_spaces.SEARCH_SPACES:
        raise CLIError(
            f"rlblocks tune has no search space for {base.algo}; it tunes "
            f"{', '.join(search_spaces.SEARCH_SPACES)}"
        )
    if evaluations > base.timesteps:
        raise CLIError(
            f"--evaluations {evaluations} exceeds --timesteps {base.timesteps}; evaluate at most once "
            "per timestep"
        )
    settings = {name: getattr(base, name) for name in SETTINGS if hasattr(base, name)}
    settings.update(evaluations=evaluations, eval_episodes=eval_episodes)
    path = study_dir or os.path.join("studies", run_config.pair_name(base.algo, base.env))
    study = _open_study(optuna, path, settings, startup_trials)
    user_file = run_config.read_yaml(config_file) if config_file else {}
    best_file = os.path.join(path, BEST_CONFIG_FILE)

    def objective(trial: Any) -> float:
        config = copy.deepcopy(base)
        suggested = search_spaces.suggest(trial, base.algo, base.timesteps)
        config.agent = run_config.merge(config.agent, suggested)
        return run_trial(
            optuna, trial, config, os.path.join(path, TRIALS_DIR, f"trial_{trial.number}"), settings
        )

    def after_trial(study: Any, trial: Any) -> None:
        log(_trial_line(trial, settings))
        if trial.state.name == "COMPLETE" and study.best_trial.number == trial.number:
            write_best_config(best_file, study.best_trial, base, user_file, path)

    started = time.perf_counter()
    existing = len(study.trials)
    interrupted = False
    from rlblocks.cli.termination import TerminationRequested, stop_requests_as_interrupts

    try:
        with stop_requests_as_interrupts():
            study.optimize(objective, n_trials=trials, callbacks=[after_trial], gc_after_trial=False)
    except (KeyboardInterrupt, TerminationRequested):
        interrupted = True
    completed = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    best = max(completed, key=lambda trial: trial.value) if completed else None
    if best is not None and not os.path.isfile(best_file):
        write_best_config(best_file, best, base, user_file, path)
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return TuneResult(
        path,
        counts,
        len(study.trials) - existing,
        None if best is None else best.number,
        None if best is None else float(best.value),
        best_file if best is not None else None,
        time.perf_counter() - started,
        settings,
        interrupted,
    )


def _open_study(optuna: Any, path: str, settings: dict[str, Any], startup_trials: int) -> Any:
    """The study in ``path``, created with ``settings`` or loaded (its settings checked).

    The TPE sampler is seeded with the seed plus the trials already in the study, so a resumed
    study does not repeat its first suggestions.

    Raises:
        CLIError: ``path`` is a file, the database cannot be opened, or other settings made it.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"--study-dir {path!r} is a file; pass a directory (created if missing)")
    os.makedirs(path, exist_ok=True)
    storage = f"sqlite:///{os.path.abspath(os.path.join(path, STUDY_FILE))}"
    pruner = optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=0)
    try:
        study = optuna.create_study(
            study_name=STUDY_NAME,
            storage=storage,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=settings["seed"]),
            pruner=pruner,
            load_if_exists=True,
        )
    except Exception as error:  # sqlalchemy/optuna raise many kinds for a damaged or foreign file
        raise CLIError(
            f"cannot open the study {os.path.join(path, STUDY_FILE)!r} ({type(error).__name__}: {error}); "
            "pass another --study-dir"
        ) from None
    saved = study.user_attrs
    if not saved:
        for name, value in settings.items():
            study.set_user_attr(name, value)
        return study
    different = {name: saved.get(name) for name, value in settings.items() if saved.get(name) != value}
    if different:
        found = ", ".join(f"{name} {saved.get(name)!r} (now {settings[name]!r})" for name in different)
        raise CLIError(
            f"the study in {path!r} was made with other settings: {found}; give the same options to add "
            "trials to it, or pass another --study-dir"
        )
    if study.trials:
        study = optuna.load_study(
            study_name=STUDY_NAME,
            storage=storage,
            sampler=optuna.samplers.TPESampler(seed=settings["seed"] + len(study.trials)),
            pruner=pruner,
        )
    return study


class ReportToTrial(Callback):
    """Reports each evaluation's mean return to an Optuna trial; stops training when it is pruned."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.last: float | None = None
        """The last reported value."""
        self.pruned_at: int | None = None
        """The timestep at which the trial was pruned, or None."""

    def value(self, result: Any) -> float:
        """What is reported for an evaluation (`EvaluationResult`): its mean return."""
        return result.mean

    def on_evaluation(self, trainer: Any, result: Any) -> bool | None:
        """Report the evaluation; True (stop training) when the pruner stops the trial."""
        self.last = float(self.value(result))
        self.trial.report(self.last, step=result.timestep)
        if self.trial.should_prune():
            self.pruned_at = result.timestep
            return True
        return None


def run_trial(
    optuna: Any, trial: Any, config: run_config.RunConfig, path: str, settings: dict[str, Any]
) -> float:
    """Train one trial's config in run directory ``path``; its last evaluation's mean return.

    Raises:
        optuna.TrialPruned: the pruner stopped it.
        CLIError: a config that does not build.
    """
    from rlblocks.trainers.torch import SequentialTrainer

    build.seed_everything(config.seed)
    device = build.resolve_device(config.device)
    build.limit_cpu_threads(device)
    environment = build.make_env(config)
    evaluation_config = copy.deepcopy(config)
    evaluation_config.seed = config.seed + EVAL_SEED_OFFSET
    evaluation_environment = build.make_env(evaluation_config, num_envs=1)
    reporter = ReportToTrial(trial)
    try:
        config = run_config.complete(config, environment.action_space)
        config.agent["experiment"].update(write_interval=0, checkpoint_interval=0)  # best_agent.pt only
        agent = build.build_agent(
            config,
            environment.observation_space,
            environment.action_space,
            device,
            path,
            num_envs=environment.num_envs,
        )
        runs.save_config(path, config)
        trainer_cfg = {
            "timesteps": config.timesteps,
            "headless": True,
            "progress": "none",
            "close_environment_at_exit": False,
            "eval_interval": max(config.timesteps // settings["evaluations"], 1),
            "eval_episodes": settings["eval_episodes"],
        }
        trainer = SequentialTrainer(
            env=environment,
            agents=agent,
            cfg=trainer_cfg,
            eval_env=evaluation_environment,
            callbacks=[reporter],
        )
        trainer.train()
    finally:
        environment.close()
        evaluation_environment.close()
    if reporter.pruned_at is not None:
        raise optuna.TrialPruned(f"pruned at timestep {reporter.pruned_at}")
    if reporter.last is None:
        raise CLIError(f"trial {trial.number} finished without an evaluation")
    return reporter.last


def best_config(trial: Any, base: run_config.RunConfig, user_file: dict[str, Any]) -> dict[str, Any]:
    """The config file content of a finished trial: the user's file, the budget and the tuned keys."""
    import optuna

    tuned = search_spaces.suggest(optuna.trial.FixedTrial(trial.params), base.algo, base.timesteps)
    layer = {
        "algo": base.algo,
        "env": base.env,
        "num_envs": base.num_envs,
        "seed": base.seed,
        "timesteps": base.timesteps,
        "agent": tuned,
    }
    return run_config.merge(user_file, layer)


def write_best_config(
    path: str, trial: Any, base: run_config.RunConfig, user_file: dict[str, Any], study_dir: str
) -> None:
    """Write `best_config` of ``trial`` to ``path`` (atomically), with a comment saying where it is from."""
    header = (
        f"# rlblocks tune: trial {trial.number} of the study in {study_dir}, the best finished one:\n"
        f"# mean return {trial.value:.2f} of the deterministic policy at its last evaluation.\n"
        f"# Train it: rlblocks train --config {path}\n"
    )
    body = yaml.safe_dump(best_config(trial, base, user_file), sort_keys=False, default_flow_style=None)
    atomic_write_text(path, header + body)


def _trial_line(trial: Any, settings: dict[str, Any]) -> str:
    state = trial.state.name
    if state == "COMPLETE":
        outcome = f"mean return {trial.value:.2f} after {settings['timesteps']:,} timesteps"
    elif state == "PRUNED":
        step = max(trial.intermediate_values) if trial.intermediate_values else 0
        value = trial.intermediate_values.get(step, float("nan"))
        outcome = f"pruned at timestep {step:,} (mean return {value:.2f}, below the median)"
    else:
        outcome = state.lower()
    params = ", ".join(f"{name}={_short(value)}" for name, value in trial.params.items())
    return f"trial {trial.number}: {outcome}; {params}"


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def summary(result: TuneResult) -> str:
    """The end-of-study summary."""
    counts = ", ".join(f"{count} {state.lower()}" for state, count in sorted(result.counts.items()))
    rows = [
        ("study", f"{os.path.join(result.study_dir, STUDY_FILE)} ({counts}; {result.new_trials} this run)"),
        ("settings", ", ".join(f"{name} {value}" for name, value in result.settings.items())),
        ("wall time", f"{result.wall_seconds:.1f} s"),
    ]
    if result.best_trial is None:
        rows.append(("best", "no trial finished yet (all pruned or failed); run more trials"))
    else:
        trial_dir = os.path.join(result.study_dir, TRIALS_DIR, f"trial_{result.best_trial}")
        rows += [
            ("best trial", f"{result.best_trial}: mean return {result.best_value:.2f} (deterministic)"),
            ("best config", result.best_config or ""),
            ("next", f"rlblocks train --config {result.best_config}"),
            ("its run", f"{trial_dir} (rlblocks eval {trial_dir})"),
        ]
    if result.interrupted:
        rows.insert(0, ("interrupted", f"run the same command again to add trials to {result.study_dir}"))
    width = max(len(name) for name, _ in rows)
    title = "rlblocks tune: interrupted" if result.interrupted else "rlblocks tune: done"
    return "\n".join(["", title, *[f"  {name:<{width}}  {value}" for name, value in rows]])
