"""What the replay-based agents (SAC, DDPG, TD3, DQN, DDQN) share: configs, storing and sampling, targets."""

from rlblocks.agents.torch.off_policy.actor_critic import ActorCriticAgent, DeterministicActorCritic
from rlblocks.agents.torch.off_policy.agent import MEMORY_TENSORS, OffPolicyAgent, Transitions
from rlblocks.agents.torch.off_policy.config import (
    ActorCriticConfig,
    EpsilonGreedyConfig,
    NoiseExplorationConfig,
    OffPolicyConfig,
)

__all__ = [
    "MEMORY_TENSORS",
    "ActorCriticAgent",
    "ActorCriticConfig",
    "DeterministicActorCritic",
    "EpsilonGreedyConfig",
    "NoiseExplorationConfig",
    "OffPolicyAgent",
    "OffPolicyConfig",
    "Transitions",
]
