"""Double DQN: the target net rates the online net's greedy action (van Hasselt et al. 2016, 1509.06461).

Data flow: as DQN, with the target y = r + γ·(1 − terminated)·Q̄(s', argmax_a Q(s', a)).

Differs from skrl 0.10: as DQN (see `rlblocks.agents.torch.dqn.dqn`).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from rlblocks.agents.torch.dqn.config import DDQNConfig, DQNConfig
from rlblocks.agents.torch.dqn.dqn import DQN
from rlblocks.agents.torch.functional.targets import double_q_value


class DDQN(DQN):
    """Double Deep Q-Network: the models, config and acting of `DQN`; only the bootstrap value differs."""

    CONFIG_CLASS: ClassVar[type[DQNConfig]] = DDQNConfig

    def next_state_values(self, next_states: torch.Tensor) -> torch.Tensor:
        """Q̄(s', argmax_a Q(s', a)), (B, 1): the online network chooses, the target network rates."""
        online_q_values = self.q_network.act({"states": next_states}, role="q_network")[0]
        target_q_values = self.target_q_network.act({"states": next_states}, role="target_q_network")[0]
        return double_q_value(online_q_values, target_q_values)
