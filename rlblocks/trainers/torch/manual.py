"""`ManualTrainer` (also `StepTrainer`): one interaction step per call, inside the user's own loop.

Differs from skrl 0.10: without an explicit `timestep` the first call is timestep 0, not 1 (bug
#26); training and evaluation count their timesteps separately; with `resume` the training count
starts at the agents' `timestep`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from rlblocks.trainers.torch.base import Trainer
from rlblocks.trainers.torch.config import TrainerConfig
from rlblocks.trainers.torch.progress import ProgressBar

MANUAL_TRAINER_DEFAULT_CONFIG = TrainerConfig.defaults()
"""Default config (see `SequentialTrainer`); `close_environment_at_exit` is unused: a manual loop
closes the env itself."""


class ManualTrainer(Trainer):
    """Step the agents and the env once per `train()`/`eval()` call.

    The agents' `init(trainer_cfg=cfg)` is called in the constructor; the states persist between
    calls (`self.states`), and the env is reset on the first call. A tqdm bar per mode is created on
    the first call of that mode. See `Trainer` for the arguments.
    """

    STRICT_CONFIG = True
    INITS_AGENTS = True

    def __init__(
        self,
        env: Any,
        agents: Any,
        agents_scope: Sequence[int] | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env=env, agents=agents, agents_scope=agents_scope, cfg=cfg)
        self.states: torch.Tensor | None = None
        self._next_timestep: dict[str, int | None] = {"train": None, "eval": 0}
        self._progress: dict[str, ProgressBar] = {}
        self._mode: str | None = None

    def train(self, timestep: int | None = None, timesteps: int | None = None) -> None:
        """One training step.

        Args:
            timestep: this step's timestep; default: one past the previous training call's (the
                first is 0, or the agents' `timestep` with `resume`).
            timesteps: the run's length passed to the agents; default `cfg["timesteps"]`.
        """
        self._one_step("train", timestep, timesteps)

    def eval(self, timestep: int | None = None, timesteps: int | None = None) -> None:
        """One evaluation step (no `pre_interaction`; the agent is in eval running mode).

        Args:
            timestep: this step's timestep; default: one past the previous evaluation call's (from 0).
            timesteps: the run's length passed to the agents; default `cfg["timesteps"]`.
        """
        self._one_step("eval", timestep, timesteps)

    def _one_step(self, mode: str, timestep: int | None, timesteps: int | None) -> None:
        if self._mode != mode:
            self._enter_mode(mode)
            self._mode = mode
        if timestep is None:
            timestep = self._next_timestep[mode]
            if timestep is None:  # the first training call
                timestep = self._start_timestep()
        timesteps = self.timesteps if timesteps is None else timesteps
        if mode not in self._progress:
            self._progress[mode] = self._progress_bar(timestep, timesteps)
        if self.states is None:
            self.states = self.env.reset()[0]
        self.states = self._step(self.states, timestep, timesteps, training=mode == "train")
        self._next_timestep[mode] = timestep + 1
        self._progress[mode].update()
        if timestep + 1 >= timesteps:
            self._progress.pop(mode).close()


StepTrainer = ManualTrainer
"""skrl >= 1.1's name for `ManualTrainer`."""
