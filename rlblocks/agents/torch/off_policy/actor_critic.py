"""Parts of the replay-based actor-critics (SAC, DDPG, TD3): their critics and what they log.

- `Critics`: one or more Q-networks with target copies, regressed together by one optimizer.
- `track_actor_critic_update`: the losses, Q-values, targets and learning rates they log.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent
from rlblocks.agents.torch.off_policy.recurrent import NO_INPUTS, ModelInputs, inputs_of
from rlblocks.agents.torch.parts import OptimisationStep
from rlblocks.utils import spaces


def require_box_actions(agent: OffPolicyAgent) -> None:
    """Raise ValueError unless ``agent``'s action space is a Box (continuous actions)."""
    if not spaces.is_box(agent.action_space):
        raise ValueError(
            f"{type(agent).__name__} needs a Box (continuous) action space, got {agent.action_space}; "
            "for Discrete actions use DQN or DDQN."
        )


class Critics:
    """The critics Q_k of ``roles`` and their targets "target_<role>", and the critic step.

    Args:
        agent: the agent whose models, config (``critic_learning_rate``, ``grad_norm_clip``) and
            checkpoints are used; the optimizer "critic_optimizer" is built only with a memory.
        roles: the critics' role names, in order.
        loss_scale: the factor on the sum of the critics' squared errors.

    Attributes:
        models, target_models: the critics and their targets (lists, in role order).
        parameters: every critic's parameters; ``first_parameters``: those of the first critic.
        step: the critics' `OptimisationStep` (None without a memory).
    """

    def __init__(self, agent: OffPolicyAgent, roles: tuple[str, ...], loss_scale: float = 1.0) -> None:
        self.roles = roles
        self.target_roles = tuple(f"target_{role}" for role in roles)
        self.models = [agent.models.get(role) for role in roles]
        self.target_models = [agent.models.get(role) for role in self.target_roles]
        self.loss_scale = loss_scale
        self.step: OptimisationStep | None = None
        if agent.memory is not None:
            self.first_parameters = list(self.models[0].parameters())
            self.parameters = list(itertools.chain(*(critic.parameters() for critic in self.models)))
            self.step = agent.build_optimisation(
                "critic_optimizer", self.parameters, agent.cfg.critic_learning_rate, agent.cfg.grad_norm_clip
            )

    def __iter__(self) -> Iterator[Any]:
        return iter(self.models)

    def __getitem__(self, index: int) -> Any:
        return self.models[index]

    def __len__(self) -> int:
        return len(self.models)

    def q_values(
        self, states: torch.Tensor, actions: torch.Tensor, inputs: ModelInputs = NO_INPUTS
    ) -> list[torch.Tensor]:
        """Each critic's (B, 1) Q(s, a), in role order (``inputs``: recurrent critics' extra inputs)."""
        return _values(self.models, self.roles, states, actions, inputs)

    def target_q_values(
        self, states: torch.Tensor, actions: torch.Tensor, inputs: ModelInputs = NO_INPUTS
    ) -> list[torch.Tensor]:
        """Each target critic's (B, 1) Q̄(s, a), in role order."""
        return _values(self.target_models, self.target_roles, states, actions, inputs)

    def regress(self, batch: Any, targets: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step on scale·Σ_k mse(Q_k(s, a), y) for the (B, 1) targets y.

        With ``batch.weights`` (sequences) each squared error is weighted and the sum divided by
        the weights' sum: a weighted mean.

        Returns:
            (the loss, each critic's Q(s, a)), detached from the graph.
        """
        q_values = self.q_values(batch.states, batch.actions, inputs_of(batch))
        weights = getattr(batch, "weights", None)
        if weights is None:
            errors = [torch.nn.functional.mse_loss(q_value, targets) for q_value in q_values]
        else:
            total = weights.sum().clamp(min=1.0)
            errors = [(weights * (q_value - targets).square()).sum() / total for q_value in q_values]
        loss = self.loss_scale * sum(errors)
        OffPolicyAgent.optimise(self.step, loss)
        return loss.detach(), [q_value.detach() for q_value in q_values]


def _values(
    critics: list[Any],
    roles: tuple[str, ...],
    states: torch.Tensor,
    actions: torch.Tensor,
    inputs: ModelInputs,
) -> list[torch.Tensor]:
    return [
        critic.act(inputs(role, states=states, taken_actions=actions), role=role)[0]
        for critic, role in zip(critics, roles)
    ]


def track_actor_critic_update(
    agent: OffPolicyAgent,
    critic_loss: torch.Tensor,
    policy_loss: torch.Tensor | None,
    q_values: list[torch.Tensor],
    targets: torch.Tensor,
    policy_step: OptimisationStep,
    critics: Critics,
) -> None:
    """Track the last gradient step's losses, Q-values, targets and learning rates (on the device)."""
    if not agent.is_logging:
        return
    agent.track_data(tags.CRITIC_LOSS, critic_loss)
    if policy_loss is not None:
        agent.track_data(tags.POLICY_LOSS, policy_loss.detach())
    for tag, q_value in zip((tags.Q1, tags.Q2), q_values):
        agent.track_statistics(tag, q_value)
    agent.track_statistics(tags.TARGET, targets)
    agent.track_data(tags.POLICY_LEARNING_RATE, policy_step.learning_rate)
    agent.track_data(tags.CRITIC_LEARNING_RATE, critics.step.learning_rate)
