"""The ``rlblocks`` command: train, eval, plot, export and migrate (a typer app).

Every command turns the errors a person can act on (`CLIError`, and checkpoint errors) into one
``error: ...`` line on stderr and exit status 2 (1 for an operating-system error such as a full
disk), without a traceback. Heavy imports (torch, the
agents, tensorboard) happen inside the commands, so ``--help`` is quick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(
    name="rlblocks",
    help="Train, evaluate, tune, plot, export and migrate reinforcement-learning agents.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Command = TypeVar("Command", bound=Callable[..., Any])
USAGE_ERROR = 2
FAILURE = 1
"""Exit status after an operating-system error (a full disk, a permission denied)."""
MAX_ERROR_LINE = 2000
"""Characters of an ``error:`` line kept (a crafted config could quote megabytes)."""
INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT), once the run's checkpoint is written."""


def main() -> None:
    """Entry point of the ``rlblocks`` script and of ``python -m rlblocks``."""
    app()


def _print_version(requested: bool) -> None:
    if requested:
        from rlblocks import __version__

        typer.echo(f"rlblocks {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Train, evaluate, plot, export and migrate reinforcement-learning agents."""


def _friendly_errors(command: Command) -> Command:
    """Print a `CLIError` (or a checkpoint error) as one line and exit with status 2.

    An `OSError` (a full disk, a permission denied: the message names the file) is one line too,
    with exit status 1, as is a `NonFiniteError` (NaN or inf from the env or in a loss: the run
    stops before writing a checkpoint of a NaN agent). Every line is cut to `MAX_ERROR_LINE` characters.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from rlblocks.agents.torch.parts.non_finite import NonFiniteError
        from rlblocks.cli.registry import CLIError
        from rlblocks.utils.checkpoint import CheckpointError

        try:
            return command(*args, **kwargs)
        except (CLIError, CheckpointError) as error:
            _print_error(error)
            raise typer.Exit(USAGE_ERROR) from None
        except (OSError, NonFiniteError) as error:
            _print_error(error)
            raise typer.Exit(FAILURE) from None

    return run  # type: ignore[return-value]  # functools.wraps keeps the signature typer reads


def _print_error(error: BaseException) -> None:
    from rlblocks.utils.load_errors import shorten

    text = " ".join(str(error).split()) or type(error).__name__
    typer.echo(f"error: {shorten(text, MAX_ERROR_LINE)}", err=True)


EnvPackages = Annotated[
    list[str] | None,
    typer.Option(
        "--env-package",
        metavar="NAME",
        help="Import this package first, so that it registers its environments (ale_py, shimmy, your own); "
        "repeatable.",
    ),
]
"""The ``--env-package`` option of train, eval and export."""


def _import_env_packages(names: list[str] | None) -> None:
    """Import the ``--env-package`` packages (`rlblocks.cli.build.import_env_packages`)."""
    if names:
        from rlblocks.cli.build import import_env_packages

        import_env_packages(names)


@app.command("train")
@_friendly_errors
def train_command(
    algo: Annotated[str | None, typer.Option(help="Algorithm (see `rlblocks algos`). Default: ppo.")] = None,
    env: Annotated[
        str | None,
        typer.Option(help="Gymnasium environment id. Default: CartPole-v1 (Pendulum-v1 for sac/td3/ddpg)."),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="YAML file overriding the ready config of the pair.")
    ] = None,
    timesteps: Annotated[
        int | None, typer.Option(help="Trainer timesteps (each steps every environment once).")
    ] = None,
    num_envs: Annotated[int | None, typer.Option(help="Environments stepped together.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of torch, numpy, Python and the envs.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda:0, ...")] = None,
    run_dir: Annotated[
        str | None, typer.Option(help="Directory of the run. Default: runs/<timestamp>_<algo>_<env>.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option(metavar="RUN_DIR", help="Continue this run from its latest checkpoint.")
    ] = None,
    progress: Annotated[
        bool, typer.Option(help="Show the progress bar (--no-progress: a plain line every 30 s instead).")
    ] = True,
    env_package: EnvPackages = None,
    env_steps: Annotated[
        int | None,
        typer.Option(help="Budget in environment steps instead of --timesteps: ceil(N/num_envs) timesteps."),
    ] = None,
    eval_interval: Annotated[
        int | None,
        typer.Option(help="Evaluate the deterministic policy on a separate env every N timesteps."),
    ] = None,
    eval_episodes: Annotated[int | None, typer.Option(help="Episodes per evaluation. Default: 10.")] = None,
    stop_at_return: Annotated[
        float | None, typer.Option(help="Stop once an evaluation's mean return reaches this.")
    ] = None,
    patience: Annotated[
        int | None, typer.Option(help="Stop after N evaluations in a row without a better mean return.")
    ] = None,
) -> None:
    """Train an agent; with no options, PPO on CartPole-v1 to a solved policy.

    With evaluation (--eval-interval, or --stop-at-return / --patience, which evaluate 20 times per
    run by default), checkpoints/best_agent.pt is the agent of the best evaluation.
    """
    import rlblocks.cli.train as training

    _import_env_packages(env_package)

    result = training.train(
        algo=algo,
        env=env,
        config_file=config,
        timesteps=timesteps,
        num_envs=num_envs,
        seed=seed,
        device=device,
        run_dir=run_dir,
        resume=resume,
        progress_bar=progress,
        env_steps=env_steps,
        evaluation={
            "eval_interval": eval_interval,
            "eval_episodes": eval_episodes,
            "stop_at_return": stop_at_return,
            "patience": patience,
        },
    )
    if training.ranks.is_writer():  # under torchrun: rank 0 only
        typer.echo(training.summary(result))
    if result.interrupted:
        raise typer.Exit(result.exit_status or INTERRUPTED)


@app.command("eval")
@_friendly_errors
def eval_command(
    path: Annotated[
        str, typer.Argument(metavar="RUN_DIR_OR_CHECKPOINT", help="A run directory or a checkpoint.")
    ],
    episodes: Annotated[int, typer.Option(help="Episodes to run.")] = 10,
    render: Annotated[str | None, typer.Option(help="Render mode: rgb_array or human.")] = None,
    video: Annotated[
        str | None, typer.Option(metavar="DIR", help="Save each episode as a GIF here (rgb_array).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the episodes. Default: the run's seed + 1000.")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda:0, ...")] = "cpu",
    env_package: EnvPackages = None,
) -> None:
    """Mean ± std return of the deterministic policy (a run's best checkpoint, or the one given)."""
    import rlblocks.cli.evaluate as evaluation

    _import_env_packages(env_package)

    result = evaluation.evaluate(
        path, episodes=episodes, render=render, video=video, seed=seed, device=device
    )
    typer.echo(evaluation.summary(result))


@app.command("tune")
@_friendly_errors
def tune_command(
    algo: Annotated[str | None, typer.Option(help="Algorithm. Default: ppo.")] = None,
    env: Annotated[str | None, typer.Option(help="Gymnasium id. Default: the algorithm's.")] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML file over the ready config.")] = None,
    trials: Annotated[int, typer.Option(help="Trials to run now (added to the study).")] = 20,
    timesteps: Annotated[int | None, typer.Option(help="Trainer timesteps per trial.")] = None,
    study_dir: Annotated[str | None, typer.Option(help="Default: studies/<algo>_<env>.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the trials and the sampler.")] = None,
    eval_episodes: Annotated[int, typer.Option(help="Deterministic episodes per evaluation.")] = 5,
    evaluations: Annotated[int, typer.Option(help="Evaluations per trial, each reported.")] = 5,
    startup_trials: Annotated[int, typer.Option(help="Trials run in full before pruning.")] = 5,
    num_envs: Annotated[int | None, typer.Option(help="Environments stepped together.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda:0, ...")] = None,
    env_package: EnvPackages = None,
) -> None:
    """Search hyperparameters with Optuna (TPE, median pruning); write the best as a config file.

    Each trial trains the pair's ready config (--config over it) with suggested agent keys for
    --timesteps (default: the config's) and evaluates the deterministic policy --evaluations times;
    the median pruner stops trials below the earlier ones. The study (STUDY_DIR/study.db) resumes
    when run again with the same settings; STUDY_DIR/best_config.yaml is for rlblocks train --config.
    """
    import rlblocks.cli.tune as tuning

    _import_env_packages(env_package)
    optuna = tuning.import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial instead
    result = tuning.tune(
        algo=algo,
        env=env,
        config_file=config,
        trials=trials,
        timesteps=timesteps,
        study_dir=study_dir,
        seed=seed,
        eval_episodes=eval_episodes,
        evaluations=evaluations,
        startup_trials=startup_trials,
        num_envs=num_envs,
        device=device,
        log=lambda line: typer.echo(line),
    )
    typer.echo(tuning.summary(result))
    if result.interrupted:
        raise typer.Exit(INTERRUPTED)


@app.command("plot")
@_friendly_errors
def plot_command(
    run_dirs: Annotated[list[str], typer.Argument(metavar="RUN_DIR...", help="Run directories.")],
    output: Annotated[str, typer.Option(help="PNG file to write.")] = "curves.png",
    tag: Annotated[str | None, typer.Option(help="TensorBoard scalar tag to draw.")] = None,
) -> None:
    """Learning curves from TensorBoard events (mean ± std band over the runs of one config)."""
    import rlblocks.cli.plot as plotting

    path = plotting.plot_runs(run_dirs, output, tag=tag or plotting.RETURN_TAG)
    typer.echo(f"wrote {path}")


@app.command("export")
@_friendly_errors
def export_command(
    checkpoint: Annotated[
        str,
        typer.Argument(metavar="CHECKPOINT", help="A checkpoint in a run directory, or the run directory."),
    ],
    format: Annotated[str, typer.Option("--format", help="onnx or torchscript.")] = "onnx",
    output: Annotated[
        str | None, typer.Option(help="File to write. Default: <run_dir>/policy.<format>.")
    ] = None,
    env_package: EnvPackages = None,
) -> None:
    """Export the deterministic policy (preprocessing included) and check it against the eager one."""
    import rlblocks.cli.export as exporting

    _import_env_packages(env_package)

    result = exporting.export(checkpoint, format=format, output=output)
    typer.echo(exporting.summary(result))
    if not result.matches:
        raise typer.Exit(1)


@app.command("migrate")
@_friendly_errors
def migrate_command(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="A stable-baselines3 .zip or an rl_games .pth.")
    ],
    env: Annotated[
        str | None, typer.Option(help="Gymnasium id of the env it was trained on (SB3 files name none).")
    ] = None,
    run_dir: Annotated[
        str | None, typer.Option(help="Directory to write. Default: runs/<timestamp>_...")
    ] = None,
    vecnormalize: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="SB3 VecNormalize.save pickle. Default: vecnormalize.pkl or vec_normalize.pkl beside FILE.",
        ),
    ] = None,
) -> None:
    """Convert an SB3 or rl_games checkpoint into a run directory that eval and export accept."""
    import rlblocks.cli.migrate as migration

    result = migration.migrate(file, env=env, run_dir=run_dir, vecnormalize=vecnormalize)
    typer.echo(migration.summary(result))


@app.command("algos")
@_friendly_errors
def algos_command() -> None:
    """List the algorithms, the action spaces they take, and the ready configs."""
    from rlblocks.cli import config as run_config
    from rlblocks.cli import registry

    for algorithm in registry.available_algorithms().values():
        pairs = [
            run_config.packaged_config(name).get("env", name.removeprefix(f"{algorithm.name}_"))
            for name in run_config.packaged_config_names()
            if name.startswith(f"{algorithm.name}_")
        ]
        kinds = " or ".join(algorithm.action_kinds)
        ready = f"; ready configs: {', '.join(pairs)}" if pairs else ""
        typer.echo(f"{algorithm.name:<6} {algorithm.display_name:<6} {kinds} actions{ready}")
