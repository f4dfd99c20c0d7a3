"""`KLAdaptiveRL`: adapt the learning rate to the KL divergence between old and new policy.

After each update the agent passes the measured KL divergence (e.g. PPO's approximate KL) to
`step(kl)`; in every parameter group

    kl > kl_threshold * kl_factor  ->  lr <- max(lr / lr_factor, min_lr)   (too big a step)
    kl < kl_threshold / kl_factor  ->  lr <- min(lr * lr_factor, max_lr)   (too timid a step)

and the learning rate is left alone in between (as in rl_games' adaptive schedule).

Differs from skrl 0.10 (see docs/differences.md, "Resources"): it works on torch 2.x (skrl passes
`verbose` positionally to the base class, which no longer accepts it, bug #24); `verbose` logs
each change through the rlblocks logger; the arguments are validated. Under torchrun the agents
(`OptimisationStep.step_scheduler`) pass the KL averaged over the ranks, so every rank adapts its
learning rate alike; a script calling `step` itself should average it too
(`rlblocks.utils.distributed.mean_over_ranks`).
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LRScheduler

from rlblocks import logger


class KLAdaptiveRL(LRScheduler):
    """Learning rate adapted to the KL divergence (see the module docstring).

    Its `state_dict()` holds the thresholds and the last learning rates; the learning rates
    themselves live in the optimizer, so a checkpoint resumes by restoring both.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kl_threshold: float = 0.008,
        min_lr: float = 1e-6,
        max_lr: float = 1e-2,
        kl_factor: float = 2,
        lr_factor: float = 1.5,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        """Attach the scheduler to `optimizer` (its learning rates are left as they are).

        Args:
            optimizer: the optimizer whose param groups' "lr" is adapted.
            kl_threshold: the target KL divergence (> 0).
            min_lr: the lowest learning rate the scheduler sets.
            max_lr: the highest learning rate the scheduler sets (>= min_lr).
            kl_factor: the KL band is [kl_threshold / kl_factor, kl_threshold * kl_factor] (>= 1).
            lr_factor: the learning rate is divided or multiplied by this (>= 1).
            last_epoch: the number of steps taken, -1 for a new schedule.
            verbose: log every learning-rate change.

        Raises:
            ValueError: an argument outside the ranges above.
        """
        if not kl_threshold > 0:
            raise ValueError(f"kl_threshold must be > 0, got {kl_threshold!r}")
        if not 0 <= min_lr <= max_lr:
            raise ValueError(f"need 0 <= min_lr <= max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
        if not kl_factor >= 1 or not lr_factor >= 1:
            raise ValueError(f"kl_factor and lr_factor must be >= 1, got {kl_factor!r} and {lr_factor!r}")
        self.kl_threshold = kl_threshold
        self.min_lr = min_lr
        self.max_lr = max_lr
        self.kl_factor = kl_factor
        self.lr_factor = lr_factor
        self.verbose = verbose
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The current learning rate of each param group."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, kl: torch.Tensor | float | None = None, epoch: int | None = None) -> None:
        """Adapt every param group's learning rate to `kl`; None (as the base class calls it) keeps them.

        Args:
            kl: the KL divergence measured after the last update (a number or a 0-d tensor).
            epoch: ignored (kept for the torch scheduler signature).
        """
        if kl is not None:
            kl = float(kl)
            for index, group in enumerate(self.optimizer.param_groups):
                old = group["lr"]
                if kl > self.kl_threshold * self.kl_factor:
                    group["lr"] = max(old / self.lr_factor, self.min_lr)
                elif kl < self.kl_threshold / self.kl_factor:
                    group["lr"] = min(old * self.lr_factor, self.max_lr)
                if self.verbose and group["lr"] != old:
                    logger.info(
                        f"KLAdaptiveRL: kl {kl:.6f}, param group {index} lr {old:.6e} -> {group['lr']:.6e}"
                    )
            self.last_epoch += 1
        self._last_lr = self.get_lr()


KLAdaptiveLR = KLAdaptiveRL
"""Another name for `KLAdaptiveRL` (the spelling skrl adopted later)."""
