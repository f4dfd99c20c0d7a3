"""`DeepQLearning`: the part DQN and DDQN hold: ε-greedy acting on Q(s, ·) and the Q-learning step.

The two agents differ only in the bootstrap value V(s') of the target y = r + γ·(1 − terminated)·V(s'),
a function given to this part: max_a Q̄(s', a) for DQN, Q̄(s', argmax_a Q(s', a)) for DDQN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.functional.exploration import epsilon_greedy, exponential_epsilon
from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent
from rlblocks.utils import spaces

Q_NETWORK_ROLES = ("q_network", ("target_q_network",), {"target_q_network": "q_network"})
"""DQN and DDQN's ACTING_ROLE, TRAINING_ROLES and TARGET_ROLES."""

BootstrapValue = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""f(online Q(s', ·), target Q̄(s', ·)) -> (B, 1) V(s'); both inputs (B, n_actions)."""


class DeepQLearning:
    """Q-network "q_network" with its target "target_q_network", ε-greedy exploration and the TD step.

    Args:
        agent: the agent whose models, config, memory and metrics are used; the optimizer
            "optimizer" (and "scheduler") is built only with a memory.
        bootstrap_value: V(s') from the online and target Q-values of the next states.
        uses_online_next_values: whether ``bootstrap_value`` reads the online Q(s', ·) (else it
            is not computed).

    Raises:
        ValueError: a non-Discrete action space.
    """

    def __init__(
        self, agent: OffPolicyAgent, bootstrap_value: BootstrapValue, uses_online_next_values: bool
    ) -> None:
        if not spaces.is_discrete(agent.action_space):
            raise ValueError(
                f"{type(agent).__name__} needs a Discrete action space, got {agent.action_space}; for "
                "continuous actions use SAC, TD3 or DDPG."
            )
        self.agent = agent
        self.bootstrap_value = bootstrap_value
        self.uses_online_next_values = uses_online_next_values
        self.num_actions = int(agent.action_space.n)
        self.q_network = agent.models["q_network"]
        self.target_q_network = agent.models.get("target_q_network")
        # skrl's attribute names on the agent
        agent.q_network, agent.target_q_network, agent.q_targets = (
            self.q_network,
            self.target_q_network,
            self.q_targets,
        )
        if agent.memory is not None:
            self.optimisation = agent.build_optimisation(
                "optimizer", self.q_network.parameters(), agent.cfg.learning_rate
            )
            agent.optimizer = self.optimisation.optimizer

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int) -> tuple[Any, Any, Any]:
        """ε-greedy (N, 1) int64 actions while training; greedy in eval mode: ``(actions, None, None)``.

        The first ``random_timesteps`` training steps act uniformly at random. Random actions are
        drawn for every row and chosen by mask, so acting costs no host synchronisation.
        """
        agent = self.agent
        processed = agent.preprocess(states)
        if agent.is_random_step(timestep):
            return self.q_network.random_act({"states": processed}, role="q_network")[0], None, None
        greedy_actions = self.q_values(processed).argmax(dim=1, keepdim=True)
        exploration = agent.cfg.exploration
        if not agent.training or not exploration.timesteps:
            return greedy_actions, None, None
        epsilon = exponential_epsilon(
            timestep, exploration.initial_epsilon, exploration.final_epsilon, exploration.timesteps
        )
        if agent.is_logging:
            agent.track_data(tags.EXPLORATION_EPSILON, epsilon)
        random_actions = self.q_network.random_act({"states": processed}, role="q_network")[0]
        return epsilon_greedy(greedy_actions, epsilon, random_actions), None, None

    def q_values(self, states: torch.Tensor) -> torch.Tensor:
        """Q(s, ·), (N, n_actions).

        Raises:
            ValueError: the Q-network's output is not one value per action.
        """
        q_values = self.q_network.act({"states": states}, role="q_network")[0]
        if q_values.shape[-1] != self.num_actions:
            raise ValueError(
                f'the "q_network" should output (N, n_actions) = (N, {self.num_actions}) Q-values, got '
                f"{tuple(q_values.shape)}; give its last layer {self.num_actions} outputs."
            )
        return q_values

    # ---------------------------------------------------------------- learning
    def update(self, timestep: int) -> None:
        """``gradient_steps`` TD steps on fresh batches; the target moves every ``target_update_interval``."""
        agent, cfg = self.agent, self.agent.cfg
        for _ in range(cfg.gradient_steps):
            batch = agent.sample_batch()
            targets = self.q_targets(batch)
            q_values = self.q_values(batch.states).gather(1, batch.actions)
            loss = torch.nn.functional.mse_loss(q_values, targets)
            agent.optimise(self.optimisation, loss)
        if timestep % cfg.target_update_interval == 0:
            agent.update_targets()
        if agent.is_logging:
            agent.track_data(tags.Q_NETWORK_LOSS, loss.detach())
            agent.track_statistics(tags.TARGET, targets)
            agent.track_data(tags.LEARNING_RATE, self.optimisation.learning_rate)

    def q_targets(self, batch: Any) -> torch.Tensor:
        """Targets r + γ·(1 − terminated)·V(s'); (B, 1), no gradient."""
        with torch.no_grad():
            next_states = batch.next_states
            target_q_values = self.target_q_network.act({"states": next_states}, role="target_q_network")[0]
            online_q_values = (
                self.q_network.act({"states": next_states}, role="q_network")[0]
                if self.uses_online_next_values
                else None
            )
            next_values = self.bootstrap_value(online_q_values, target_q_values)
            return td_target(batch.rewards, next_values, batch.terminated, self.agent.cfg.discount_factor)
