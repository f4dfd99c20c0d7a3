"""Deep Q-Network and Double Deep Q-Network."""

from rlblocks.agents.torch.dqn.config import DDQN_DEFAULT_CONFIG, DQN_DEFAULT_CONFIG, DDQNConfig, DQNConfig
from rlblocks.agents.torch.dqn.ddqn import DDQN
from rlblocks.agents.torch.dqn.dqn import DQN

__all__ = ["DDQN", "DDQN_DEFAULT_CONFIG", "DQN", "DQN_DEFAULT_CONFIG", "DDQNConfig", "DQNConfig"]
