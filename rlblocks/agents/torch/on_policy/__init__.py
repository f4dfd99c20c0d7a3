"""The on-policy family base: rollout collection, truncation bootstrapping and GAE."""

from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout

__all__ = ["OnPolicyAgent", "Rollout"]
