"""DQN: Q-learning with a replay memory and a target network (Mnih et al. 2015, Nature 518:529).

Data flow: act ε-greedily on Q(s, ·) -> store (s, a, r, s', terminated) -> every
``update_interval``-th step from ``learning_starts``, ``gradient_steps`` x (fresh batch ->
y = r + γ·(1 − terminated)·max_a Q̄(s', a) -> step on mse(Q(s, a), y)) -> every
``target_update_interval``-th step, θ̄ ← (1 − polyak)·θ̄ + polyak·θ.

The defaults are skrl 0.10's: a *soft* target update (polyak 0.005 every 10 steps; polyak=1 is
the paper's hard copy) and an *exponential* ε decay (see `rlblocks.agents.torch.dqn.config`).

Differs from skrl 0.10:
- a fresh batch is sampled for every gradient step and its states are preprocessed once (#19);
- the target network is updated once per update step, after the gradient steps (skrl updates it
  after each gradient step of such a timestep, so gradient_steps > 1 compounded the polyak factor);
- models act in eval mode and learn in train mode (skrl never switches them);
- ``random_timesteps`` act at random even when ε-greedy exploration is off;
- a partial ``exploration`` dict keeps the other keys' defaults (skrl raises KeyError);
- in eval running mode the agent acts greedily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.dqn.config import DQNConfig
from rlblocks.agents.torch.functional.exploration import epsilon_greedy, exponential_epsilon
from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.functional.targets import greedy_q_value
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent, Transitions
from rlblocks.utils import spaces


class DQN(OffPolicyAgent):
    """Deep Q-Network.

    Models: "q_network" and "target_q_network" (Deterministic: (N, n_actions) Q-values; the target
    a separate instance, copied from the Q-network here). Actions are (N, 1) int64. Only
    "q_network" is needed to act without a memory.
    """

    ACTING_ROLE: ClassVar[str] = "q_network"
    TRAINING_ROLES: ClassVar[tuple[str, ...]] = ("target_q_network",)
    TARGET_ROLES: ClassVar[dict[str, str]] = {"target_q_network": "q_network"}
    CONFIG_CLASS: ClassVar[type[DQNConfig]] = DQNConfig

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | DQNConfig | None = None,
    ) -> None:
        """Check the models and the action space, copy the target, build the optimizer and the preprocessor.

        Raises:
            ValueError: a missing model or a non-Discrete action space.
            KeyError: an unknown config key (the message names the nearest valid one).
        """
        config = self.CONFIG_CLASS.from_dict(cfg)
        super().__init__(models, memory, observation_space, action_space, device, config)
        name = type(self).__name__
        if not spaces.is_discrete(self.action_space):
            raise ValueError(
                f"{name} needs a Discrete action space, got {self.action_space}; for continuous actions "
                "use SAC, TD3 or DDPG."
            )
        self.num_actions = int(self.action_space.n)
        self.q_network = self.models["q_network"]
        self.target_q_network = self.models.get("target_q_network")
        if self.memory is not None:
            self.q_network_parameters = list(self.q_network.parameters())
            self.optimizer = self.build_optimizer(
                "optimizer", self.q_network_parameters, self.cfg.learning_rate
            )

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """ε-greedy (N, 1) int64 actions while training; greedy in eval mode: ``(actions, None, None)``.

        The first ``random_timesteps`` training steps act uniformly at random.
        """
        processed = self.preprocess(states)
        if self.is_random_step(timestep):
            return self.q_network.random_act({"states": processed}, role="q_network")[0], None, None
        greedy_actions = self.q_values(processed).argmax(dim=1, keepdim=True)
        exploration = self.cfg.exploration
        if not self.training or not exploration.timesteps:
            return greedy_actions, None, None
        epsilon = exponential_epsilon(
            timestep, exploration.initial_epsilon, exploration.final_epsilon, exploration.timesteps
        )
        if self.is_logging:
            self.track_data(tags.EXPLORATION_EPSILON, epsilon)
        actions = epsilon_greedy(
            greedy_actions,
            epsilon,
            lambda: self.q_network.random_act({"states": processed}, role="q_network")[0],
        )
        return actions, None, None

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

    def is_update_step(self, timestep: int) -> bool:
        """Whether to update at this timestep: every ``update_interval`` steps."""
        return timestep % self.cfg.update_interval == 0

    # ---------------------------------------------------------------- learning
    def _update(self, timestep: int, timesteps: int) -> None:
        for _ in range(self.cfg.gradient_steps):
            batch = self.sample_batch()
            targets = self.q_targets(batch)
            q_values = self.q_values(batch.states).gather(1, batch.actions)
            loss = torch.nn.functional.mse_loss(q_values, targets)
            self.optimise(self.optimizer, loss, self.q_network_parameters)
        if timestep % self.cfg.target_update_interval == 0:
            self.update_targets()
        if self.is_logging:
            self.track_data(tags.Q_NETWORK_LOSS, loss.item())
            self.track_statistics(tags.TARGET, targets)
            self.track_data(tags.LEARNING_RATE, self.optimizer.param_groups[0]["lr"])

    def q_targets(self, batch: Transitions) -> torch.Tensor:
        """Targets r + γ·(1 − terminated)·V(s'), V from `next_state_values`; (B, 1), no gradient."""
        with torch.no_grad():
            next_values = self.next_state_values(batch.next_states)
            return td_target(batch.rewards, next_values, batch.terminated, self.cfg.discount_factor)

    def next_state_values(self, next_states: torch.Tensor) -> torch.Tensor:
        """max_a Q̄(s', a), (B, 1)."""
        return greedy_q_value(self.target_q_network.act({"states": next_states}, role="target_q_network")[0])
