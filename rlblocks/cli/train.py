"""`rlblocks train`: resolve the config, build env, models, memory and agent, train, summarise.

``--resume RUN_DIR`` rebuilds everything from the run's saved config, loads its latest checkpoint
(models, optimizer, preprocessor statistics, timestep, RNG states, and the replay memory of an
off-policy agent) and trains on from that timestep, writing TensorBoard events and checkpoints
into the same directory. A config.yaml that is empty, cut short, invalid or describes other models
than the checkpoint's is refused (see `resume_checks`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from rlblocks.cli import build, plot, resume_checks
from rlblocks.cli import config as run_config
from rlblocks.cli import ranks
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError
from rlblocks.cli.termination import TerminationRequested, stop_requests_as_interrupts
from rlblocks.utils.checkpoint import CheckpointError


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
) -> TrainResult:
    """Train a new run (or resume one) and draw its curve.

    Raises:
        CLIError: anything a person can fix: bad names, files, values or directories.
    """
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
    else:
        overrides = {"timesteps": timesteps, "num_envs": num_envs, "seed": seed, "device": device}
        config = run_config.resolve(algo, env, config_file, overrides)
        path = ranks.shared_run_dir(run_dir or runs.new_run_dir("runs", config.algo, config.env))
        runs.check_fresh(path, resume_hint=True)
        checkpoint = None
        ranks.wait_for_every_rank()  # every rank checked the directory before rank 0 writes
    check_wandb(config)

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


def check_wandb(config: run_config.RunConfig) -> None:
    """With ``agent: experiment: wandb: true``, check that wandb imports before anything is written.

    Raises:
        CLIError: wandb is not installed (the run directory is left untouched).
    """
    experiment = config.agent.get("experiment") or {}
    if not (isinstance(experiment, dict) and experiment.get("wandb")):
        return
    try:
        import wandb  # noqa: F401  only checked here; the agent initialises it
    except ImportError as error:
        raise CLIError(
            f"agent: experiment: wandb is true but wandb cannot be imported ({error}); pip install wandb, "
            "or set wandb: false"
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
    }
    trainer = SequentialTrainer(env=environment, agents=agent, cfg=trainer_cfg)
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
    )


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
