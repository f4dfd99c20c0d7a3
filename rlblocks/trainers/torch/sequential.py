"""`SequentialTrainer`: the agents act one after the other, in one process, on their env slices."""

from __future__ import annotations

from rlblocks.trainers.torch.base import Trainer
from rlblocks.trainers.torch.config import TrainerConfig

SEQUENTIAL_TRAINER_DEFAULT_CONFIG = TrainerConfig.defaults()
"""Default config: timesteps 100000, headless False, disable_progressbar False, plus the
rlblocks keys close_environment_at_exit True, resume False, stochastic_evaluation False."""


class SequentialTrainer(Trainer):
    """Train or evaluate one or several agents, calling each agent's hooks in turn every step.

    The agents' `init(trainer_cfg=cfg)` is called in the constructor. See `Trainer` for the
    arguments and the step loop.
    """

    STRICT_CONFIG = True
    INITS_AGENTS = True

    def train(self) -> None:
        """Train for `cfg["timesteps"]` timesteps (from the agents' `timestep` with `resume`)."""
        self._run(training=True)

    def eval(self) -> None:
        """Evaluate for `cfg["timesteps"]` timesteps with the agents in eval running mode.

        No `pre_interaction`; `record_transition` and `post_interaction` are called, and the agent,
        knowing it is not training, stores nothing, learns nothing and saves nothing.
        """
        self._run(training=False)
