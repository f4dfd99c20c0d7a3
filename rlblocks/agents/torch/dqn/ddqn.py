"""Double DQN: the target net rates the online net's greedy action (van Hasselt et al. 2016, 1509.06461).

Data flow: as DQN, with the target y = r + γ·(1 − terminated)·Q̄(s', argmax_a Q(s', a)).

Differs from skrl 0.10: as DQN (see `rlblocks.agents.torch.dqn.dqn`).
"""

from __future__ import annotations

from typing import ClassVar

from rlblocks.agents.torch.dqn.config import DDQNConfig
from rlblocks.agents.torch.dqn.q_learning import Q_NETWORK_ROLES, DeepQLearning
from rlblocks.agents.torch.functional.targets import double_q_value
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent


class DDQN(OffPolicyAgent):
    """Double Deep Q-Network: DQN's models, config keys and acting; only the bootstrap value differs.

    Models: "q_network" and "target_q_network" (Deterministic: (N, n_actions) Q-values).
    """

    CONFIG_CLASS: ClassVar[type[DDQNConfig]] = DDQNConfig
    ACTING_ROLE, TRAINING_ROLES, TARGET_ROLES = Q_NETWORK_ROLES

    def _setup(self) -> None:
        super()._setup()
        # the online network chooses the next action, the target network rates it
        self.learner = DeepQLearning(self, double_q_value, uses_online_next_values=True)
