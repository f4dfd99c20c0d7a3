"""What DDPG and TD3 share: a deterministic policy μ with a target μ̄, noisy exploration, the actor step.

- `NoisyExploration`: μ(s) + scaled noise, the scale decaying linearly, clamped to the bounds.
- `DeterministicActorCritic`: the part DDPG and TD3 hold: acting, the target actions μ̄(s'), the
  actor step on −Q_1(s, μ(s)) and the update's logging.
"""

from __future__ import annotations

from typing import Any

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.functional.exploration import linear_noise_scale
from rlblocks.agents.torch.off_policy.actor_critic import (
    Critics,
    require_box_actions,
    track_actor_critic_update,
)
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent, frozen
from rlblocks.agents.torch.off_policy.recurrent import NO_INPUTS, ModelInputs


class NoisyExploration:
    """Noise on μ(s), scaled by a linearly decaying factor, clamped to the action bounds.

    Args:
        agent: the agent whose ``cfg.exploration`` section, action bounds and metrics are used.
    """

    def __init__(self, agent: OffPolicyAgent) -> None:
        self.agent = agent
        self.noise = agent.cfg.exploration.noise

    def __call__(self, actions: torch.Tensor, timestep: int, timesteps: int) -> torch.Tensor:
        """``actions`` plus scaled noise, clamped to the action bounds (no noise once the scale is 0).

        The schedule lasts the section's ``timesteps``, or the trainer's ``timesteps`` if None.
        """
        if self.noise is None:
            return actions
        exploration = self.agent.cfg.exploration
        length = timesteps if exploration.timesteps is None else exploration.timesteps
        scale = linear_noise_scale(timestep, exploration.initial_scale, exploration.final_scale, length)
        if scale <= 0:
            return actions
        noise = scale * self.noise.sample(actions.shape)
        if self.agent.is_logging:
            self.agent.track_statistics(tags.EXPLORATION_NOISE, noise)
        return torch.clamp(actions + noise, self.agent.action_low, self.agent.action_high)


class DeterministicActorCritic:
    """DDPG and TD3's actor and critics.

    Args:
        agent: the agent whose models ("policy", "target_policy" and the critics), config and
            checkpoints are used; the optimizers are built only with a memory.
        critic_roles: the critics' role names.

    Attributes:
        policy, target_policy: μ and μ̄; critics: the `Critics`; exploration: the `NoisyExploration`;
        policy_optimisation: the actor's `OptimisationStep` (with a memory).
    """

    def __init__(self, agent: OffPolicyAgent, critic_roles: tuple[str, ...]) -> None:
        require_box_actions(agent)
        self.agent = agent
        self.policy = agent.models[agent.ACTING_ROLE]
        self.target_policy = agent.models.get("target_policy")
        self.critics = Critics(agent, critic_roles)
        self.exploration = NoisyExploration(agent)
        if agent.memory is not None:
            self.policy_optimisation = agent.build_optimisation(
                "policy_optimizer",
                self.policy.parameters(),
                agent.cfg.actor_learning_rate,
                agent.cfg.grad_norm_clip,
            )
            agent.policy_optimizer = self.policy_optimisation.optimizer
            agent.critic_optimizer = self.critics.step.optimizer

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """μ(s) plus scaled exploration noise, clamped to the bounds, while training; μ(s) in eval mode.

        The first ``random_timesteps`` training steps act uniformly at random.
        """
        agent = self.agent
        actions, _, outputs, random = agent.policy_act(states, timestep)
        if random:
            return actions, None, outputs
        if agent.training:
            actions = self.exploration(actions, timestep, timesteps)
        return actions, None, outputs

    def target_actions(self, next_states: torch.Tensor, inputs: ModelInputs = NO_INPUTS) -> torch.Tensor:
        """μ̄(s'), the target policy's (B, A) actions (``inputs``: a recurrent one's extra inputs)."""
        return self.target_policy.act(inputs("target_policy", states=next_states), role="target_policy")[0]

    def policy_step(self, states: torch.Tensor, inputs: ModelInputs = NO_INPUTS) -> torch.Tensor:
        """One actor step on −mean Q_1(s, μ(s)) (Silver et al. 2014); returns the detached loss.

        The first critic's weights are frozen meanwhile, so no gradient is computed for them.
        """
        actions = self.policy.act(inputs("policy", states=states), role="policy")[0]
        critics = self.critics
        with frozen(critics.first_parameters):
            role = critics.roles[0]
            q_value = critics.models[0].act(inputs(role, states=states, taken_actions=actions), role=role)[0]
        loss = -q_value.mean()
        OffPolicyAgent.optimise(self.policy_optimisation, loss)
        return loss.detach()

    def track(
        self,
        critic_loss: torch.Tensor,
        policy_loss: torch.Tensor | None,
        q_values: list[torch.Tensor],
        targets: torch.Tensor,
    ) -> None:
        """Track the last gradient step (see `track_actor_critic_update`)."""
        track_actor_critic_update(
            self.agent, critic_loss, policy_loss, q_values, targets, self.policy_optimisation, self.critics
        )
