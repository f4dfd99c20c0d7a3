"""`rlblocks train`: resolve the config, build env, models, memory and agent, train, summarise.

``--resume RUN_DIR`` rebuilds everything from the run's saved config, loads its latest checkpoint
(models, optimizer, preprocessor statistics, timestep, RNG states, and the replay memory of an
off-policy agent) and trains on from that timestep, writing TensorBoard events and checkpoints
into the same directory. A config.yaml that is empty, cut short, invalid or describes other models
than the checkpoint's is refused (see `resume_checks`).
"""

from __future__ import annotations

import importlib
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rlblocks.cli import build, plot, ranks, resume_checks
from rlblocks.cli import config as run_config
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError
from rlblocks.cli.termination import TerminationRequested, stop_requests_as_interrupts
from rlblocks.utils import distributed
from rlblocks.utils.checkpoint import CheckpointError

EVALUATION_KEYS = ("eval_interval", "eval_episodes", "stop_at_return", "patience")
"""Run config keys of evaluation during training, passed on as trainer keys."""
DEFAULT_EVALUATIONS = 20
"""Evaluations per run when a stopping rule is set without an eval_interval."""
EVAL_SEED_OFFSET = 1000
"""The evaluation env's seed is the run's + this (as in `rlblocks eval`): episodes unseen in training."""


@dataclass
class TrainResult:
    """What the end-of-run summary reports."""

    run_dir: str
    config: run_config.RunConfig
    start_timestep: int
    timestep: int
    mean_return: float | None
    wall_seconds: float
    curve: str | None
    interrupted: bool = False
    exit_status: int | None = None
    """The exit status an interruption asks for (143 after SIGTERM); None: the default."""
    best_evaluation: float | None = None
    """The best evaluation mean return during training (None without evaluation)."""
    evaluations: int = 0
    stop_reason: str | None = None
    """Why training stopped before ``timesteps`` (stop_at_return, patience); None: it did not."""
    agent: Any = None
    """The trained agent (for `rlblocks.train` callers: evaluate or save it from Python)."""


def train(
    algo: str | None = None,
    env: str | None = None,
    config_file: str | None = None,
    timesteps: int | None = None,
    num_envs: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    run_dir: str | None = None,
    resume: str | None = None,
    progress_bar: bool = True,
    env_steps: int | None = None,
    evaluation: Mapping[str, Any] | None = None,
    config_overrides: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train a new run (or resume one) and draw its curve.

    Args:
        algo: algorithm name (``rlblocks algos``); None: the config file's, else ppo.
        env: gymnasium env id; None: the config file's, else the algorithm's default.
        config_file: a YAML run config over the ready config of the pair.
        timesteps: trainer timesteps (each steps every env once).
        num_envs: envs stepped together.
        seed: seed of torch, numpy, Python and the envs.
        device: "auto", "cpu", "cuda:0", ...
        run_dir: the run directory (default runs/<timestamp>_<algo>_<env>).
        resume: a run directory to continue from its latest checkpoint.
        progress_bar: a tqdm bar on a terminal (False: plain lines).
        env_steps: the budget in environment steps instead of ``timesteps``: timesteps =
            ceil(env_steps / (num_envs x torchrun ranks)).
        evaluation: run config keys eval_interval, eval_episodes, stop_at_return, patience (None
            values are left out); they may change on a resume.
        config_overrides: run config keys (a dict, nested like a config file), over ``config_file``.

    Raises:
        CLIError: anything a person can fix: bad names, files, values or directories.
    """
    evaluation = {key: value for key, value in (evaluation or {}).items() if value is not None}
    unknown = sorted(set(evaluation) - set(EVALUATION_KEYS))
    if unknown:
        raise CLIError(f"unknown evaluation keys {unknown}; use {', '.join(EVALUATION_KEYS)}")
    if env_steps is not None and timesteps is not None:
        raise CLIError(
            f"--env-steps {env_steps} and --timesteps {timesteps} both set the budget; give one of them"
        )
    if resume is not None and config_overrides:
        raise CLIError("--resume continues a run with its saved config; drop the config overrides")
    if resume is not None:
        given = {
            "--algo": algo,
            "--env": env,
            "--config": config_file,
            "--num-envs": num_envs,
            "--seed": seed,
        }
        given.update({"--run-dir": run_dir})
        extra = [flag for flag, value in given.items() if value is not None]
        if extra:
            raise CLIError(
                f"--resume continues a run with its saved config; drop {', '.join(extra)} "
                "(only --timesteps and --device may change)"
            )
        path = resume
        config = runs.load_config(path, resuming=True)
        checkpoint = runs.latest(path)
        if timesteps is not None:
            config.timesteps = timesteps
        if device is not None:
            config.device = device
        for key, value in evaluation.items():
            setattr(config, key, value)
        config = run_config.from_dict(config.to_dict())  # the changed values checked
    else:
        options = {"timesteps": timesteps, "num_envs": num_envs, "seed": seed, "device": device}
        overrides = {
            **(config_overrides or {}),
            **evaluation,
            **{key: value for key, value in options.items() if value is not None},
        }
        config = run_config.resolve(algo, env, config_file, overrides)
        path = ranks.shared_run_dir(run_dir or runs.new_run_dir("runs", config.algo, config.env))
        runs.check_fresh(path, resume_hint=True)
        checkpoint = None
        ranks.wait_for_every_rank()  # every rank checked the directory before rank 0 writes
    if env_steps is not None:
        config.timesteps = timesteps_for(env_steps, config.num_envs * distributed.world_size())
    with_default_evaluation(config)
    check_optional_loggers(config)

    build.seed_everything(config.seed)
    device_ = build.resolve_device(config.device)
    build.limit_cpu_threads(device_)
    environment = build.make_env(config)
    try:
        config = run_config.complete(config, environment.action_space)
        agent = build.build_agent(
            config,
            environment.observation_space,
            environment.action_space,
            device_,
            path,
            num_envs=environment.num_envs,
        )
        if checkpoint is not None:
            try:
                resume_checks.check_models_match(agent, checkpoint, os.path.join(path, runs.CONFIG_FILE))
                agent.load(checkpoint)
            except CheckpointError as error:
                raise CLIError(f"cannot resume from {checkpoint}: {error}") from None
        if ranks.is_writer():  # under torchrun: rank 0 only
            runs.save_config(path, config)  # on a resume, once the run is known to continue
        return _run(agent, environment, config, path, progress_bar)
    finally:
        environment.close()


def timesteps_for(env_steps: int, envs: int) -> int:
    """Trainer timesteps giving at least ``env_steps`` environment steps with ``envs`` envs in all.

    Raises:
        CLIError: ``env_steps`` < 1.
    """
    if isinstance(env_steps, bool) or not isinstance(env_steps, int) or env_steps < 1:
        raise CLIError(f"--env-steps must be a positive integer, got {env_steps!r}")
    return math.ceil(env_steps / envs)


def with_default_evaluation(config: run_config.RunConfig) -> None:
    """Check the evaluation keys; evaluate 20 times per run when a stopping rule has no ``eval_interval``.

    Raises:
        CLIError: a bad evaluation value (before anything is written).
    """
    from rlblocks.trainers.torch.config import TrainerConfig

    try:
        TrainerConfig.from_dict({key: getattr(config, key) for key in EVALUATION_KEYS})
    except ValueError as error:
        raise CLIError(str(error).replace("trainer config key", "run config key")) from None
    if config.eval_interval == 0 and (config.stop_at_return is not None or config.patience > 0):
        config.eval_interval = max(config.timesteps // DEFAULT_EVALUATIONS, 1)


OPTIONAL_LOGGERS = {"wandb": "pip install wandb", "mlflow": "pip install mlflow (or mlflow-skinny)"}
"""``agent: experiment:`` keys that need a package, and its install command."""


def check_optional_loggers(config: run_config.RunConfig) -> None:
    """With ``agent: experiment: wandb/mlflow: true``, check the package imports before anything is written.

    Raises:
        CLIError: the package is not installed (the run directory is left untouched).
    """
    experiment = config.agent.get("experiment") or {}
    if not isinstance(experiment, dict):
        return
    for key, install in OPTIONAL_LOGGERS.items():
        if not experiment.get(key):
            continue
        try:
            importlib.import_module(key)  # only checked here; the agent starts the run
        except ImportError as error:
            raise CLIError(
                f"agent: experiment: {key} is true but {key} cannot be imported ({error}); {install}, "
                f"or set {key}: false"
            ) from None


def _run(
    agent: Any, environment: Any, config: run_config.RunConfig, path: str, progress_bar: bool
) -> TrainResult:
    from rlblocks.trainers.torch import SequentialTrainer

    trainer_cfg = {
        "timesteps": config.timesteps,
        "headless": True,
        "progress": "auto" if progress_bar else "lines",
        "resume": agent.timestep > 0,
        "close_environment_at_exit": False,
        **{key: getattr(config, key) for key in EVALUATION_KEYS},
    }
    eval_env = _evaluation_env(config)
    try:
        trainer = SequentialTrainer(env=environment, agents=agent, cfg=trainer_cfg, eval_env=eval_env)
    except ValueError as error:  # a bad evaluation setting
        if eval_env is not None:
            eval_env.close()
        raise CLIError(str(error)) from None
    start = agent.timestep
    started = time.perf_counter()
    interrupted = False
    exit_status = None
    try:
        with stop_requests_as_interrupts():
            trainer.train()
    except TerminationRequested as termination:  # SIGTERM: as Ctrl-C, with the signal's exit status
        interrupted, exit_status = True, 128 + termination.signal_number
    except KeyboardInterrupt:  # Ctrl-C: keep what was learnt, say how to continue
        interrupted = True
    finally:
        if eval_env is not None:
            eval_env.close()
    monitor = trainer.monitor
    wall_seconds = time.perf_counter() - started
    interval = agent.cfg.experiment.checkpoint_interval
    if agent.timestep > start and interval > 0 and agent.timestep % interval:
        agent.write_checkpoint(agent.timestep, config.timesteps)  # the last steps are never lost
    if agent.writer is not None:
        agent.writer.flush()
        agent.writer.close()
    try:
        curve = (
            plot.plot_runs([path], os.path.join(path, runs.CURVE_FILE), title=f"{config.algo} {config.env}")
            if ranks.is_writer()
            else None
        )
    except CLIError:
        curve = None  # too short a run to finish an episode between two writes
    return TrainResult(
        path,
        config,
        start,
        agent.timestep,
        agent.recent_mean_return,
        wall_seconds,
        curve,
        interrupted,
        exit_status,
        best_evaluation=None if monitor is None else monitor.best_mean,
        evaluations=0 if monitor is None else len(monitor.evaluations),
        stop_reason=trainer.stop_reason,
        agent=agent,
    )


def _evaluation_env(config: run_config.RunConfig) -> Any:
    """One env for evaluation during training, seeded apart from training (seed + 1000), or None."""
    if config.eval_interval == 0:
        return None
    evaluation = run_config.from_dict({**config.to_dict(), "seed": config.seed + EVAL_SEED_OFFSET})
    return build.make_env(evaluation, num_envs=1)


def _evaluation_rows(result: TrainResult) -> list[tuple[str, str]]:
    rows = []
    if result.best_evaluation is not None:
        best = f"{result.best_evaluation:.2f}"
        rows.append(("evaluation", f"best mean return {best} over {result.evaluations} evaluations"))
    if result.stop_reason:
        rows.append(("stopped early", result.stop_reason))
    return rows


def summary(result: TrainResult) -> str:
    """The one-screen summary printed at the end of a run."""
    config = result.config
    steps = result.timestep - result.start_timestep
    env_steps = steps * config.num_envs
    rate = env_steps / result.wall_seconds if result.wall_seconds > 0 else float("nan")
    mean_return = "n/a (no episode finished)" if result.mean_return is None else f"{result.mean_return:.2f}"
    resumed = f" (resumed at {result.start_timestep:,})" if result.start_timestep else ""
    rows = [
        ("algorithm", f"{config.algo} on {config.env}, {config.num_envs} envs, seed {config.seed}"),
        ("timesteps", f"{result.timestep:,}{resumed}: {env_steps:,} env steps this run"),
        ("mean return", f"{mean_return} (last <=100 training episodes)"),
        *_evaluation_rows(result),
        ("wall time", f"{result.wall_seconds:.1f} s, {rate:,.0f} env steps/s"),
        ("next", f"rlblocks eval {result.run_dir}"),
        ("run directory", result.run_dir),
        ("curve", result.curve or "not drawn (no finished episode was logged)"),
    ]
    if result.interrupted:
        rows.insert(
            0, ("interrupted", f"at timestep {result.timestep:,}; continue with --resume {result.run_dir}")
        )
    width = max(len(name) for name, _ in rows)
    title = "rlblocks train: interrupted" if result.interrupted else "rlblocks train: done"
    return "\n".join(["", title, *[f"  {name:<{width}}  {value}" for name, value in rows]])
