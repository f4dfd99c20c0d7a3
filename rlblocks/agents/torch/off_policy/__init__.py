"""What the replay-based agents (SAC, DDPG, TD3, DQN, DDQN) share: the family base, its parts, configs."""

from rlblocks.agents.torch.off_policy.actor_critic import Critics
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent
from rlblocks.agents.torch.off_policy.config import (
    ActorCriticConfig,
    EpsilonGreedyConfig,
    NoiseExplorationConfig,
    OffPolicyConfig,
)
from rlblocks.agents.torch.off_policy.deterministic import DeterministicActorCritic, NoisyExploration

__all__ = [
    "ActorCriticConfig",
    "Critics",
    "DeterministicActorCritic",
    "EpsilonGreedyConfig",
    "NoiseExplorationConfig",
    "NoisyExploration",
    "OffPolicyAgent",
    "OffPolicyConfig",
]
