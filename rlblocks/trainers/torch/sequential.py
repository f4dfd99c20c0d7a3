"""`SequentialTrainer`: the agents act one after the other, in one process, on their env slices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rlblocks.trainers.torch.base import Trainer
from rlblocks.trainers.torch.config import TrainerConfig

SEQUENTIAL_TRAINER_DEFAULT_CONFIG = TrainerConfig.defaults()
"""Default config: timesteps 100000, headless False, disable_progressbar False, plus the
rlblocks keys close_environment_at_exit True, resume False, stochastic_evaluation False."""


class SequentialTrainer(Trainer):
    """Train or evaluate one or several agents, calling each agent's hooks in turn every step.

    The agents' `init(trainer_cfg=cfg)` is called here, in the constructor. See `Trainer` for the
    arguments and the step loop.
    """

    def __init__(
        self,
        env: Any,
        agents: Any,
        agents_scope: Sequence[int] | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env=env, agents=agents, agents_scope=agents_scope, cfg=cfg)
        for agent in self._agents:
            agent.init(trainer_cfg=self.cfg)

    def train(self) -> None:
        """Train for `cfg["timesteps"]` timesteps (from the agents' `timestep` with `resume`)."""
        self._run(training=True)

    def eval(self) -> None:
        """Evaluate for `cfg["timesteps"]` timesteps with the agents in eval running mode.

        No `pre_interaction`; `record_transition` and `post_interaction` are called, and the agent,
        knowing it is not training, stores nothing, learns nothing and saves nothing.
        """
        self._run(training=False)
