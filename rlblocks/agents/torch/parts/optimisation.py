"""`OptimisationStep`: one gradient step of one optimizer, and its learning-rate scheduler.

Under torchrun (several ranks) the gradients are averaged over the ranks after ``backward`` (one
flattened all-reduce, `rlblocks.utils.distributed.GradientAverager`, which also carries the loss
checked for finiteness, so a step costs one collective) and a KL given to the scheduler is
averaged too, so every rank takes the same step; one process makes no such call.

The scheduler protocol: every scheduler is stepped with ``scheduler.step()``, except that a
scheduler whose ``step`` takes a ``kl`` argument (such as `KLAdaptiveRL`) is given the measured
KL divergence, ``scheduler.step(kl=...)``. The choice is made once, from the signature, so a
user's own KL-driven scheduler works the same way.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from rlblocks.agents.torch.optimizers import adam
from rlblocks.agents.torch.parts.non_finite import NonFiniteGuard
from rlblocks.utils import distributed


def takes_kl(scheduler: Any) -> bool:
    """Whether ``scheduler.step`` accepts a ``kl`` argument (the KL-driven scheduler protocol)."""
    try:
        return "kl" in inspect.signature(scheduler.step).parameters
    except (AttributeError, TypeError, ValueError):  # no step, or a builtin without a signature
        return False


class OptimisationStep:
    """Adam over ``parameters``: zero-grad, backward, clip the gradients' global norm, step.

    Args:
        parameters: the trained parameters.
        learning_rate: Adam's learning rate.
        grad_norm_clip: clip the global gradient norm to this (0: no clipping).
        scheduler_class: a learning-rate scheduler class, built as ``cls(optimizer, **scheduler_kwargs)``.
        scheduler_kwargs: its keyword arguments.
        guard: checks the loss (and the gradient norm, when clipping) before each step: a
            non-finite one raises `NonFiniteError` or skips the step (see `NonFiniteGuard`).
        name: the optimizer's name in the guard's messages ("optimizer", "critic_optimizer").

    Attributes:
        optimizer: the Adam optimizer; ``scheduler``: the scheduler or None;
        uses_kl: whether the scheduler wants the KL divergence (so the agent must measure it).
    """

    def __init__(
        self,
        parameters: Iterable[torch.nn.Parameter],
        learning_rate: float,
        grad_norm_clip: float = 0.0,
        scheduler_class: Any = None,
        scheduler_kwargs: Mapping[str, Any] | None = None,
        guard: NonFiniteGuard | None = None,
        name: str = "optimizer",
    ) -> None:
        self.parameters = list(parameters)
        self.grad_norm_clip = grad_norm_clip
        self.optimizer = adam(self.parameters, learning_rate)
        self.scheduler = (
            None if scheduler_class is None else scheduler_class(self.optimizer, **(scheduler_kwargs or {}))
        )
        self.uses_kl = self.scheduler is not None and takes_kl(self.scheduler)
        self.guard, self.name = guard, name
        if guard is not None:
            guard.add_optimizer(name)
        # under torchrun: the gradients are averaged over the ranks before clipping and stepping
        self._averager = (
            distributed.GradientAverager(self.parameters) if distributed.is_distributed() else None
        )

    def __call__(self, loss: torch.Tensor) -> None:
        """One step on the 0-d ``loss``; the scheduler is not stepped (see `step_scheduler`).

        Raises:
            NonFiniteError: the loss or the gradient norm is NaN or inf (with a guard in "raise"
                mode, on CPU; on CUDA the step is skipped and the guard's next check raises).
        """
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        checked = loss.detach()
        if self._averager is not None:
            # the loss rides in the gradients' all-reduce: NaN on one rank, every rank skips (or raises)
            mean_loss = self._averager(checked if self.guard is not None else None)
            checked = checked if mean_loss is None else mean_loss
        if self.grad_norm_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.parameters, self.grad_norm_clip, foreach=True)
            checked = checked + norm  # inf or NaN gradients give a non-finite norm
        if self.guard is not None and self.guard.skips_step(self.name, checked, self.optimizer):
            return
        self.optimizer.step()

    def step_scheduler(self, kl: torch.Tensor | float | None = None) -> None:
        """Step the scheduler, if any; a KL-driven one receives ``kl`` (the update's mean KL)."""
        if self.scheduler is None:
            return
        if self.uses_kl:
            if self._averager is not None and kl is not None:
                kl = distributed.mean_over_ranks(kl)  # every rank adapts its learning rate alike
            self.scheduler.step(kl=kl)
        else:
            self.scheduler.step()

    @property
    def learning_rate(self) -> float:
        """The current learning rate (of the first parameter group)."""
        return self.optimizer.param_groups[0]["lr"]

    def register(self, agent: Any, optimizer_name: str, scheduler_name: str) -> None:
        """Register the optimizer (and the scheduler, if any) for ``agent``'s checkpoints."""
        agent.register_checkpoint_module(optimizer_name, self.optimizer)
        if self.scheduler is not None:
            agent.register_checkpoint_module(scheduler_name, self.scheduler)
