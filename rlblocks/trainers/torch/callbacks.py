"""`Callback`: user hooks the trainers call during `train()`, able to stop training.

A callback overrides the methods it needs; each may return True, or raise `StopTraining`, to
stop training after the current step (the agents keep what they learnt; the CLI and the trainers
then write the last checkpoint as after a normal end)::

    class TimeBudget(Callback):
        def __init__(self, seconds):
            self.deadline = time.monotonic() + seconds

        def on_update(self, trainer, agent, timestep):
            return time.monotonic() > self.deadline  # True: stop after this step

    SequentialTrainer(env, agent, cfg={"timesteps": 100_000}, callbacks=[TimeBudget(600)]).train()

Order within one training step: the agent's ``post_interaction`` runs (``on_update`` when it
learnt, ``on_checkpoint`` when it wrote a checkpoint, in that order), then ``on_step``, then, at an
evaluation step (trainer key ``eval_interval``), ``on_evaluation``. Several callbacks are called
in the order given. ``on_train_start`` and ``on_train_end`` frame the whole run (``on_train_end``
also after a stop or an error).

Only the methods a callback overrides are called: a callback with ``on_step`` alone costs one
Python call per step; the per-step loop is unchanged when no callback is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlblocks.trainers.torch.periodic_evaluation import EvaluationResult

HOOKS = ("on_step", "on_update", "on_checkpoint", "on_evaluation")
"""The hooks whose True return value stops training, in their order within a step."""


class StopTraining(Exception):
    """Raised by a callback (or returned True) to stop training after the current step.

    Args:
        reason: why, shown in the trainer's log line and kept as ``trainer.stop_reason``.
    """

    def __init__(self, reason: str = "a callback asked to stop") -> None:
        super().__init__(reason)
        self.reason = reason


class Callback:
    """Base class of user callbacks: every hook does nothing and returns None (keep training).

    ``timestep`` is the number of trainer timesteps done so far (skrl's meaning: each steps every
    env once); ``agent.env_steps(timestep)`` converts it to environment steps.
    """

    def on_train_start(self, trainer: Any) -> None:
        """Before the first step of ``trainer.train()``."""

    def on_step(self, trainer: Any, timestep: int) -> bool | None:
        """After every training step (all agents' ``post_interaction`` done); True stops."""

    def on_update(self, trainer: Any, agent: Any, timestep: int) -> bool | None:
        """After ``agent`` ran an update (its ``_update``) at this step; True stops."""

    def on_checkpoint(self, trainer: Any, agent: Any, timestep: int) -> bool | None:
        """After ``agent`` wrote a checkpoint (``write_checkpoint``) at this step; True stops."""

    def on_evaluation(self, trainer: Any, result: EvaluationResult) -> bool | None:
        """After an evaluation during training (`EvaluationResult`: mean, std, returns); True stops."""

    def on_train_end(self, trainer: Any) -> None:
        """After the last step, a stop, or an error."""


def overridden(callbacks: Iterable[Callback], hook: str) -> list[Callback]:
    """The callbacks whose class overrides ``hook`` (only those are called)."""
    return [
        callback
        for callback in callbacks
        if getattr(type(callback), hook, None) is not getattr(Callback, hook)
    ]


def checked_callbacks(callbacks: Sequence[Any] | None) -> list[Callback]:
    """``callbacks`` as a list of `Callback` instances.

    Raises:
        TypeError: an item that is not a `Callback` (a class instead of an instance, a function).
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    items = list(callbacks)
    for item in items:
        if not isinstance(item, Callback):
            hint = f"{item.__name__}()" if isinstance(item, type) else "an instance of a Callback subclass"
            raise TypeError(
                f"callbacks must be rlblocks.trainers.torch.Callback instances, got {item!r}; pass {hint}"
            )
    return items
