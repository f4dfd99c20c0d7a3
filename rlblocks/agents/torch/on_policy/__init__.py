"""The on-policy family base: rollout collection, truncation bootstrapping and GAE."""

from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout
from rlblocks.agents.torch.on_policy.config import ActorCriticConfig, OnPolicyConfig

__all__ = ["ActorCriticConfig", "OnPolicyAgent", "OnPolicyConfig", "Rollout"]
