"""`ActorCriticAgent`: the policy, critics and target critics SAC, DDPG and TD3 share, and the critic step.

`DeterministicActorCritic` adds what DDPG and TD3 share: a deterministic policy with a target
copy, exploration noise on a decaying scale, and the actor loss −Q_1(s, μ(s)).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.functional.exploration import linear_noise_scale
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent, Transitions, frozen
from rlblocks.agents.torch.off_policy.config import ActorCriticConfig
from rlblocks.utils import spaces


def critic_values(critics: list[Any], roles: tuple[str, ...], states: torch.Tensor, actions: torch.Tensor):
    """Each critic's (B, 1) Q(s, a), in order."""
    inputs = {"states": states, "taken_actions": actions}
    return [critic.act(inputs, role=role)[0] for critic, role in zip(critics, roles)]


class ActorCriticAgent(OffPolicyAgent):
    """A replay-based actor-critic with one or more critics, each with a target copy.

    Subclasses set ``CRITIC_ROLES``; the targets are "target_<role>". Attributes: ``policy``,
    ``critics`` and ``target_critics`` (lists, in role order), ``policy_optimizer`` and
    ``critic_optimizer`` (one Adam over every critic), built only when training (with a memory).
    """

    CRITIC_ROLES: ClassVar[tuple[str, ...]] = ()
    CRITIC_LOSS_SCALE: ClassVar[float] = 1.0
    """Factor on the sum of the critics' squared errors."""

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: ActorCriticConfig,
    ) -> None:
        """Check the models and the action space, build the policy and critic optimizers.

        Raises:
            ValueError: a missing model or a non-Box action space.
        """
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        if not spaces.is_box(self.action_space):
            raise ValueError(
                f"{type(self).__name__} needs a Box (continuous) action space, got {self.action_space}; "
                "for Discrete actions use DQN or DDQN."
            )
        self.policy = self.models[self.ACTING_ROLE]
        self.target_critic_roles = tuple(f"target_{role}" for role in self.CRITIC_ROLES)
        self.critics = [self.models.get(role) for role in self.CRITIC_ROLES]
        self.target_critics = [self.models.get(role) for role in self.target_critic_roles]
        if self.memory is not None:
            self.policy_parameters = list(self.policy.parameters())
            self.policy_optimizer = self.build_optimizer(
                "policy_optimizer", self.policy_parameters, self.cfg.actor_learning_rate
            )
            self.first_critic_parameters = list(self.critics[0].parameters())
            self.critic_parameters = list(itertools.chain(*(critic.parameters() for critic in self.critics)))
            self.critic_optimizer = self.build_optimizer(
                "critic_optimizer", self.critic_parameters, self.cfg.critic_learning_rate
            )

    def q_values(self, states: torch.Tensor, actions: torch.Tensor) -> list[torch.Tensor]:
        """Each online critic's Q(s, a)."""
        return critic_values(self.critics, self.CRITIC_ROLES, states, actions)

    def target_q_values(self, states: torch.Tensor, actions: torch.Tensor) -> list[torch.Tensor]:
        """Each target critic's Q̄(s, a)."""
        return critic_values(self.target_critics, self.target_critic_roles, states, actions)

    def critic_step(
        self, batch: Transitions, targets: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Regress each critic's Q(s, a) on the (B, 1) targets y: one step on scale·Σ_k mse(Q_k, y).

        Returns:
            (the loss, each critic's Q(s, a)), detached from the graph.
        """
        q_values = self.q_values(batch.states, batch.actions)
        loss = sum(torch.nn.functional.mse_loss(q_value, targets) for q_value in q_values)
        loss = self.CRITIC_LOSS_SCALE * loss
        self.optimise(self.critic_optimizer, loss, self.critic_parameters, self.cfg.grad_norm_clip)
        return loss.detach(), [q_value.detach() for q_value in q_values]

    def policy_step(self, loss: torch.Tensor) -> None:
        """One step of the policy optimizer on ``loss``."""
        self.optimise(self.policy_optimizer, loss, self.policy_parameters, self.cfg.grad_norm_clip)

    def track_update(
        self,
        critic_loss: torch.Tensor,
        policy_loss: torch.Tensor | None,
        q_values: list[torch.Tensor],
        targets: torch.Tensor,
    ) -> None:
        """Track the last gradient step's losses, Q-values, targets and learning rates."""
        if not self.is_logging:
            return
        self.track_data(tags.CRITIC_LOSS, critic_loss.item())
        if policy_loss is not None:
            self.track_data(tags.POLICY_LOSS, policy_loss.item())
        for tag, q_value in zip((tags.Q1, tags.Q2), q_values):
            self.track_statistics(tag, q_value)
        self.track_statistics(tags.TARGET, targets)
        self.track_data(tags.POLICY_LEARNING_RATE, self.policy_optimizer.param_groups[0]["lr"])
        self.track_data(tags.CRITIC_LEARNING_RATE, self.critic_optimizer.param_groups[0]["lr"])


class DeterministicActorCritic(ActorCriticAgent):
    """DDPG and TD3's common part: a deterministic policy μ with a target μ̄, and noisy exploration.

    Models: "policy" and "target_policy" (Deterministic: (N, A) actions), plus the critics of
    ``CRITIC_ROLES`` and their targets (Deterministic on states and taken_actions: (N, 1)).
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: ActorCriticConfig,
    ) -> None:
        """See `ActorCriticAgent`; also pairs the target policy."""
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.target_policy = self.models.get("target_policy")
        self.exploration_noise = self.cfg.exploration.noise
        self.exploration_timesteps = self.cfg.exploration.timesteps

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """As `OffPolicyAgent.init`; the noise schedule lasts the trainer's timesteps unless configured."""
        super().init(trainer_cfg)
        if self.cfg.exploration.timesteps is None:
            self.exploration_timesteps = int((trainer_cfg or {}).get("timesteps", 0))

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """μ(s) plus scaled exploration noise, clamped to the bounds, while training; μ(s) in eval mode.

        The first ``random_timesteps`` training steps act uniformly at random.
        """
        processed = self.preprocess(states)
        if self.is_random_step(timestep):
            return self.policy.random_act({"states": processed}, role="policy")
        actions, _, outputs = self.policy.act({"states": processed}, role="policy")
        if self.training and self.exploration_noise is not None:
            exploration = self.cfg.exploration
            scale = linear_noise_scale(
                timestep, exploration.initial_scale, exploration.final_scale, self.exploration_timesteps
            )
            if scale > 0:
                noise = scale * self.exploration_noise.sample(actions.shape)
                actions = torch.clamp(actions + noise, self.action_low, self.action_high)
                if self.is_logging:
                    self.track_statistics(tags.EXPLORATION_NOISE, noise)
        return actions, None, outputs

    def target_actions(self, next_states: torch.Tensor) -> torch.Tensor:
        """μ̄(s'), the target policy's (B, A) actions."""
        return self.target_policy.act({"states": next_states}, role="target_policy")[0]

    def deterministic_policy_loss(self, states: torch.Tensor) -> torch.Tensor:
        """The actor loss −mean Q_1(s, μ(s)) (Silver et al. 2014): the critic's gradient moves μ uphill."""
        actions = self.policy.act({"states": states}, role="policy")[0]
        with frozen(self.first_critic_parameters):
            q_value = self.critics[0].act(
                {"states": states, "taken_actions": actions}, role=self.CRITIC_ROLES[0]
            )[0]
        return -q_value.mean()
