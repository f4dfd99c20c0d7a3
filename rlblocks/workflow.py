"""`rlblocks.train` and `rlblocks.evaluate`: what ``rlblocks train`` and ``rlblocks eval`` do, from Python.

The skrl-style modular API (models, memory, agent, trainer) stays the core; these are the
one-liners on top, and both work on the same run directories as the CLI::

    import rlblocks

    run = rlblocks.train(algo="ppo", env="CartPole-v1", timesteps=20_000)
    mean, std, returns = rlblocks.evaluate(run.run_dir, episodes=10)
    mean, std, returns = rlblocks.evaluate(run.agent, "CartPole-v1", episodes=10)

`rlblocks` imports this module on first use of either name, so ``import rlblocks`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import torch


class Evaluation(NamedTuple):
    """Mean and standard deviation of the episodes' returns, and the returns, in the order they ended."""

    mean: float
    std: float
    returns: list[float]


def evaluate(
    agent_or_run: Any,
    env: Any = None,
    episodes: int = 10,
    deterministic: bool = True,
    seed: int | None = None,
    device: str = "cpu",
) -> Evaluation:
    """Play ``episodes`` episodes with an agent, or with the agent of a run directory or checkpoint.

    Each step is recorded as the trainers do (`rlblocks.trainers.torch.evaluation_step`), so a
    recurrent policy carries its states; the agent's training statistics are left unchanged.

    Args:
        agent_or_run: an rlblocks agent, or a run directory (its ``best_agent.pt``, else the
            latest checkpoint) or a checkpoint file inside one, as ``rlblocks eval`` takes.
        env: a gymnasium id (one env is made, seeded with ``seed``), a gymnasium env or vector env,
            or a wrapped env (`rlblocks.envs.torch.wrap_env`); None for a run: the run's env,
            seeded with its seed + 1000 (episodes unseen in training) unless ``seed`` is given.
        episodes: how many episodes (>= 1); with several sub-envs the first to end count.
        deterministic: the policy's deterministic actions (its mean, its most likely action);
            False samples them.
        seed: seed of the env made here (an id, or the run's env).
        device: where a run's agent is loaded ("cpu", "cuda:0", ...).

    Returns:
        ``(mean, std, returns)`` (an `Evaluation`).

    Raises:
        CLIError: a path that is not a run directory or a checkpoint in one, or a run whose agent
            the CLI cannot rebuild (the message says which part and what to do).
        ValueError: ``episodes`` < 1, or no env for an agent.
    """
    from rlblocks.trainers.torch.periodic_evaluation import evaluate_episodes

    if isinstance(agent_or_run, (str, os.PathLike)):
        agent, env, owned = _run_agent(os.fspath(agent_or_run), env, seed, device)
    else:
        if env is None:
            raise ValueError(
                "evaluate(agent, env): an agent needs an env to play in, e.g. "
                "evaluate(agent, 'CartPole-v1'); only a run directory has its own"
            )
        agent, (env, owned) = agent_or_run, _wrapped(env, seed)
    previous = getattr(agent, "stochastic_evaluation", False)
    agent.stochastic_evaluation = not deterministic
    try:
        result = evaluate_episodes(agent, env, episodes)
    finally:
        agent.stochastic_evaluation = previous
        if owned:
            env.close()
    return Evaluation(result.mean, result.std, result.returns)


def _run_agent(path: str, env: Any, seed: int | None, device: str) -> tuple[Any, Any, bool]:
    """The run's agent (eval running mode) and the env to play in (True: made here, to be closed)."""
    from rlblocks.cli import build
    from rlblocks.cli.evaluate import load_agent

    threads = torch.get_num_threads()
    try:
        agent, config, _, _ = load_agent(path, device)
    finally:
        torch.set_num_threads(threads)  # the CLI's one-thread setting is not the caller's
    if env is not None:
        return (agent, *_wrapped(env, seed))
    config.seed = config.seed + 1000 if seed is None else seed
    return agent, build.make_env(config, num_envs=1), True


def _wrapped(env: Any, seed: int | None) -> tuple[Any, bool]:
    """``env`` as a wrapped env, and whether it was made here (an id: then it is closed after)."""
    from rlblocks.envs.torch import Wrapper, wrap_env

    if isinstance(env, str):
        import gymnasium

        made = gymnasium.make_vec(env, num_envs=1, vectorization_mode="sync")
        made.reset(seed=seed)
        return wrap_env(made, verbose=False), True
    if isinstance(env, Wrapper):
        return env, False
    return wrap_env(env, verbose=False), False


def train(
    algo: str | None = None,
    env: str | None = None,
    timesteps: int | None = None,
    config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    env_steps: int | None = None,
    num_envs: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    run_dir: str | None = None,
    resume: str | None = None,
    eval_interval: int | None = None,
    eval_episodes: int | None = None,
    stop_at_return: float | None = None,
    patience: int | None = None,
    progress: bool = True,
) -> Any:
    """Train as ``rlblocks train`` does: the ready config of the pair, a run directory, a summary.

    The arguments are the command's options (``rlblocks train --help``); ``config`` is a YAML file
    or a dict of run config keys (nested like the file: ``{"agent": {"learning_rate": 1e-3}}``).
    Python, numpy and torch are seeded with the run's seed, as the command does; torch's thread
    count is restored afterwards.

    Returns:
        The run (`rlblocks.cli.train.TrainResult`): ``run_dir``, ``agent``, ``mean_return``,
        ``timestep``, ``best_evaluation``, ``stop_reason``, ... `summary(run)` prints like the CLI.

    Raises:
        CLIError: anything the command refuses (an unknown algorithm or env, a bad value, a run
            directory that holds files).
    """
    from rlblocks.cli import train as training

    config_file = os.fspath(config) if isinstance(config, (str, os.PathLike)) else None
    overrides = dict(config) if isinstance(config, Mapping) else None
    threads = torch.get_num_threads()
    try:
        evaluation = dict(
            zip(training.EVALUATION_KEYS, (eval_interval, eval_episodes, stop_at_return, patience))
        )
        given = (algo, env, config_file, timesteps, num_envs, seed, device, run_dir, resume, progress)
        return training.train(*given, env_steps=env_steps, evaluation=evaluation, config_overrides=overrides)
    finally:
        torch.set_num_threads(threads)


def export(run_or_checkpoint: str | os.PathLike[str], format: str = "onnx", output: str | None = None) -> Any:
    """Export a run's (or a checkpoint's) deterministic policy as ``rlblocks export`` does.

    The file takes raw observations (the preprocessing is inside) and gives actions; it is checked
    against the eager policy on real observations (within 1e-5) before this returns.

    Args:
        run_or_checkpoint: a run directory (its best checkpoint is exported) or a checkpoint file.
        format: "onnx" or "torchscript".
        output: the file to write (default: ``<run dir>/policy.onnx`` or ``policy.torchscript.pt``).

    Returns:
        The result (`rlblocks.cli.export.ExportResult`): ``path``, ``max_abs_difference``,
        ``matches``, and the state shapes of a recurrent policy.

    Raises:
        CLIError: an unknown format, a missing optional package, a bad path or checkpoint.
    """
    from rlblocks.cli import export as exporting

    return exporting.export(os.fspath(run_or_checkpoint), format=format, output=output)


def summary(run: Any) -> str:
    """The end-of-run summary ``rlblocks train`` prints, for a run `train` returned."""
    from rlblocks.cli import train as training

    return training.summary(run)
