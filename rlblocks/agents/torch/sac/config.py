"""`SACConfig`: the typed config behind `SAC_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.off_policy.config import ActorCriticConfig
from rlblocks.utils.config import check_positive


@dataclass(kw_only=True)
class SACConfig(ActorCriticConfig):
    """SAC hyperparameters; public dict keys equal the field names.

    The ``experiment`` section uses the key ``directory`` (skrl 0.10's SAC defaults say
    ``base_directory``, a key nothing reads; #20).
    """

    KIND = "SAC"

    learn_entropy: bool = True
    """Learn the entropy coefficient α so that the policy's entropy tracks ``target_entropy``."""
    entropy_learning_rate: float = 1e-3
    """Adam learning rate of log α."""
    initial_entropy_value: float = 0.2
    """α at the start (> 0); the fixed α when ``learn_entropy`` is False."""
    target_entropy: float | None = None
    """The entropy α is tuned towards; None: −dim(A) (e.g. −1 for Pendulum)."""
    squash_actions: bool = False
    """Not in skrl 0.10. Squash the Gaussian sample u into the action bounds with tanh and correct the
    log-prob for it (SAC paper, appendix C; as stable-baselines3). The policy's mean should then be
    unbounded and its clip_actions False. False (skrl 0.10): the policy's own actions and log-prob
    are used as they are (typically a tanh-bounded mean and clip_actions=True)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("entropy_learning_rate", self.entropy_learning_rate)
        check_positive("initial_entropy_value", self.initial_entropy_value)


SAC_DEFAULT_CONFIG = SACConfig.defaults()
"""skrl's public dict of SAC defaults, derived from `SACConfig` so the two cannot drift."""
