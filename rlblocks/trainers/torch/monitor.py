"""`TrainingMonitor`: evaluation during training, early stopping and the users' callbacks.

The trainer makes one only when something needs it (an ``eval_env`` with ``eval_interval`` > 0,
or callbacks); otherwise its step loop is exactly the plain one. After every training step the
trainer calls `TrainingMonitor.after_step`, which returns True when training should stop:

- every ``eval_interval`` timesteps (and after the last one) the agent plays ``eval_episodes``
  episodes on the evaluation env (`evaluate_episodes`; deterministic actions unless
  ``stochastic_evaluation``); the mean, std and mean length are written to TensorBoard as
  ``Eval / Mean return``, ``Eval / Return std``, ``Eval / Mean episode length`` at the training's
  env steps; ``checkpoints/best_agent.pt`` is written when the mean return is the best so far;
- training stops when the mean return reaches ``stop_at_return``, or after ``patience``
  evaluations in a row without a better mean return;
- the callbacks' hooks run (`rlblocks.trainers.torch.callbacks`); True or `StopTraining` stops.

Under torchrun every rank evaluates on its own env and the mean return is averaged over the
ranks, so that all of them keep the same best and stop at the same step; with callbacks, a stop
asked on one rank stops every rank (one small all-reduce per step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlblocks import logger
from rlblocks.agents.torch import tags
from rlblocks.trainers.torch.callbacks import Callback, StopTraining, overridden
from rlblocks.trainers.torch.periodic_evaluation import EvaluationResult, evaluate_episodes
from rlblocks.utils import distributed

OBSERVED_METHODS = {"on_update": "_update", "on_checkpoint": "write_checkpoint"}
"""The agent method after which each hook runs (observed only while a callback overrides the hook)."""


class TrainingMonitor:
    """What the trainer checks after each training step (module docstring).

    Args:
        trainer: the trainer (passed to the callbacks).
        agents: the trainer's agents (one when evaluating).
        callbacks: the users' `Callback` instances, in calling order.
        eval_env: the wrapped evaluation env, or None.
        cfg: the trainer's `TrainerConfig` (eval_interval, eval_episodes, stop_at_return, patience).
    """

    def __init__(
        self, trainer: Any, agents: Sequence[Any], callbacks: Sequence[Callback], eval_env: Any, cfg: Any
    ) -> None:
        self.trainer = trainer
        self.agents = list(agents)
        self.callbacks = list(callbacks)
        self.eval_env = eval_env
        self.interval = int(cfg.eval_interval) if eval_env is not None else 0
        self.episodes = int(cfg.eval_episodes)
        self.stop_at_return = cfg.stop_at_return
        self.patience = int(cfg.patience)
        self.evaluations: list[EvaluationResult] = []
        """Every evaluation of this run, in order."""
        self.best_mean: float | None = None
        self.stale_evaluations = 0
        """Evaluations in a row without a better mean return."""
        self.stop_reason: str | None = None
        self._stop_requested: str | None = None
        self._step_hooks = overridden(self.callbacks, "on_step")
        self._evaluation_hooks = overridden(self.callbacks, "on_evaluation")
        self._observed: list[tuple[Any, str]] = []
        self._shares_stops = bool(self.callbacks) and distributed.is_distributed()
        """Under torchrun with callbacks: a stop on one rank stops all (one all-reduce per step)."""

    @property
    def is_evaluating(self) -> bool:
        """Whether the agent is evaluated during training."""
        return self.interval > 0

    # ------------------------------------------------------------------ run
    def start(self, start: int, timesteps: int) -> None:
        """Before the first step: observe the agents' updates and checkpoints, call ``on_train_start``."""
        self.timesteps = timesteps
        if self.is_evaluating:
            for agent in self.agents:
                if hasattr(agent, "best_by_evaluation"):
                    agent.best_by_evaluation = True
        for hook, method in OBSERVED_METHODS.items():
            callbacks = overridden(self.callbacks, hook)
            if callbacks:
                for agent in self.agents:
                    self._observe(agent, method, hook, callbacks)
        for callback in overridden(self.callbacks, "on_train_start"):
            callback.on_train_start(self.trainer)

    def end(self) -> None:
        """After the run (also after a stop or an error): stop observing, call ``on_train_end``."""
        for agent, method in self._observed:
            vars(agent).pop(method, None)  # the class's method again
        self._observed = []
        for callback in overridden(self.callbacks, "on_train_end"):
            callback.on_train_end(self.trainer)

    def after_step(self, timestep: int) -> bool:
        """After training step ``timestep - 1`` (``timestep`` done): True to stop training."""
        for callback in self._step_hooks:
            self._ask(callback, "on_step", self.trainer, timestep)
        if self.is_evaluating and (timestep % self.interval == 0 or timestep == self.timesteps):
            self.evaluate(timestep)
        if self._shares_stops and distributed.any_rank(self._stop_requested is not None):
            self._request_stop("a callback on another torchrun rank asked to stop")
        if self._stop_requested is not None:
            self.stop_reason, self._stop_requested = self._stop_requested, None
            logger.info(f"training stopped at timestep {timestep}: {self.stop_reason}")
            return True
        return False

    # ----------------------------------------------------------- evaluation
    def evaluate(self, timestep: int) -> EvaluationResult:
        """Evaluate the agent now; log it, keep the best agent, apply the stopping rules."""
        agent = self.agents[0]
        result = evaluate_episodes(
            agent, self.eval_env, self.episodes, timestep, count_running=not self.evaluations
        )
        if distributed.is_distributed():  # every rank decides alike: on the mean over the ranks' envs
            result = result._replace(mean=float(distributed.mean_over_ranks(result.mean)))
        self.evaluations.append(result)
        self._write(agent, result)
        is_better = self.best_mean is None or result.mean > self.best_mean
        if is_better:
            self.best_mean = result.mean
            self.stale_evaluations = 0
            write_best = getattr(agent, "write_best_checkpoint", None)
            if callable(write_best):
                write_best(result.mean)
        else:
            self.stale_evaluations += 1
        if self.stop_at_return is not None and result.mean >= self.stop_at_return:
            self._request_stop(
                f"evaluation mean return {result.mean:.2f} >= stop_at_return {self.stop_at_return}"
            )
        elif self.patience and self.stale_evaluations >= self.patience:
            self._request_stop(
                f"no better evaluation mean return than {self.best_mean:.2f} in {self.patience} evaluations "
                "(patience)"
            )
        for callback in self._evaluation_hooks:
            self._ask(callback, "on_evaluation", self.trainer, result)
        return result

    def _write(self, agent: Any, result: EvaluationResult) -> None:
        writer = getattr(agent, "writer", None)
        if writer is None:
            return
        for tag, value in (
            (tags.EVAL_MEAN_RETURN, result.mean),
            (tags.EVAL_RETURN_STD, result.std),
            (tags.EVAL_MEAN_LENGTH, sum(result.lengths) / len(result.lengths)),
        ):
            writer.add_scalar(tag, value, result.env_steps)
        writer.flush()

    # ------------------------------------------------------------ callbacks
    def _observe(self, agent: Any, method: str, hook: str, callbacks: list[Callback]) -> None:
        """Call ``hook`` of ``callbacks`` after each call of ``agent.<method>(timestep, timesteps)``."""
        original = getattr(agent, method, None)
        if original is None or method in vars(agent):
            return

        def observed(timestep: Any = None, timesteps: Any = None, *args: Any, **kwargs: Any) -> Any:
            value = original(timestep, timesteps, *args, **kwargs)
            # the timesteps done: an update runs within step `timestep`, a checkpoint is passed the count
            done = timestep + 1 if method == "_update" and isinstance(timestep, int) else timestep
            for callback in callbacks:
                self._ask(callback, hook, self.trainer, agent, done)
            return value

        setattr(agent, method, observed)
        self._observed.append((agent, method))

    def _ask(self, callback: Callback, hook: str, *args: Any) -> None:
        try:
            if getattr(callback, hook)(*args) is True:
                self._request_stop(f"{type(callback).__name__}.{hook} returned True")
        except StopTraining as stop:
            self._request_stop(f"{type(callback).__name__}.{hook}: {stop.reason}")

    def _request_stop(self, reason: str) -> None:
        if self._stop_requested is None:
            self._stop_requested = reason
