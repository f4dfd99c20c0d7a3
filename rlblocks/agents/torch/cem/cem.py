"""CEM: the Cross-Entropy Method for policies (Rubinstein 1999; Szita & Lőrincz 2006, Neural Comput. 18:2936).

Data flow: collect ``rollouts`` steps from every env -> split each env's steps into finished
episodes (carrying running ones over to the next rollout) -> discounted return of each episode ->
elite episodes: return >= the ``percentile`` quantile -> one Adam step on the cross-entropy of
the policy on the elite (state, action) pairs.

Differs from skrl 0.10:
- any number of environments (skrl 0.10 reads the number of envs from the reward's last
  dimension, so it supports one env only, bug #27);
- the discount weights run forward: an episode's first reward is weighted by γ^0 (skrl reverses
  the exponents, so the last reward got γ^0 and early rewards counted least, bug #27);
- an episode that spans several rollouts is scored once, with all its steps, in the rollout where
  it ends (skrl scores the piece in each rollout as an episode of its own);
- no finished episode in a rollout: one warning, and the update is skipped (skrl warns at every
  update);
- the cross-entropy is -log π(a|s) from the policy's act, so a policy that outputs
  probabilities (``unnormalized_log_prob=False``) is handled too;
- the memory must hold exactly one rollout; in eval running mode the agent acts greedily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from rlblocks import logger
from rlblocks.agents.torch import tags
from rlblocks.agents.torch.base import Agent, Transition
from rlblocks.agents.torch.cem.carry import Steps, UnfinishedEpisodes
from rlblocks.agents.torch.cem.config import CEMConfig
from rlblocks.agents.torch.functional.episodes import episode_returns
from rlblocks.agents.torch.parts import StoredTensor, TensorSchema
from rlblocks.agents.torch.parts.schema import create_rollout_tensors
from rlblocks.models.torch import CategoricalMixin

MAX_EPISODE_ROLLOUTS = 10
"""An episode longer than this many rollouts is not scored (its steps are not kept longer)."""


class CEM(Agent):
    """Cross-Entropy Method.

    Models: "policy" (a Categorical model over a Discrete action space: (N, 1) int64 actions
    and their log-prob).

    Attributes:
        policy: the model; optimisation: its `OptimisationStep` (also ``optimizer`` and
            ``scheduler`` as in skrl); schema: the stored tensors.

    Raises ValueError at construction for a missing or non-categorical "policy", KeyError for an
    unknown config key (naming the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[CEMConfig]] = CEMConfig
    SUPPORTS_DISTRIBUTED: ClassVar[bool] = False  # own update path (not averaged over torchrun ranks)

    def _setup(self) -> None:
        super()._setup()
        cfg = self.cfg
        self.policy = self.models.get("policy")
        if self.policy is None:
            raise ValueError(
                f'CEM needs a "policy" model; got roles {sorted(self.models)}. Pass models={{"policy": ...}}.'
            )
        if not isinstance(self.policy, CategoricalMixin):
            raise ValueError(
                f'CEM needs a CategoricalMixin "policy" (discrete actions, logits), got '
                f"{type(self.policy).__name__}"
            )
        self.register_checkpoint_module("policy", self.policy)
        self.optimisation = self.build_optimisation("optimizer", self.policy.parameters(), cfg.learning_rate)
        self.optimizer, self.scheduler = self.optimisation.optimizer, self.optimisation.scheduler
        self._state_preprocessor = self.build_state_preprocessor()
        self.schema = TensorSchema(
            StoredTensor("states", self.observation_space),
            StoredTensor("actions", 1, torch.int64),
            StoredTensor("rewards", 1),
            StoredTensor("terminated", 1, torch.bool),
            StoredTensor("truncated", 1, torch.bool),
        )
        self.unfinished = UnfinishedEpisodes(MAX_EPISODE_ROLLOUTS * cfg.rollouts)
        self._num_rollout_steps = 0
        self._has_warned = False
        self._acted_states: torch.Tensor | None = None
        self._acted_processed_states: torch.Tensor | None = None

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Set up logging, create the memory tensors.

        Raises:
            ValueError: a memory that does not hold exactly one rollout.
        """
        super().init(trainer_cfg)
        create_rollout_tensors(self, self.schema, self.cfg.rollouts)

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """Sample actions from the policy (greedy in eval running mode unless stochastic evaluation)."""
        processed = self._state_preprocessor(states, train=self.training)
        self._acted_states, self._acted_processed_states = states, processed
        if self.is_random_step(timestep):
            return self.policy.random_act({"states": processed}, role="policy")
        actions, log_prob, outputs = self.policy.act({"states": processed}, role="policy")
        if not self.training and not self.stochastic_evaluation:
            actions = self._deterministic_actions(actions, outputs)
        return actions, log_prob, outputs

    def _store_transition(self, transition: Transition, timestep: int, timesteps: int) -> None:
        if self.memory is None:
            return
        processed = self._acted_processed_states
        if transition.states is not self._acted_states:
            processed = self._state_preprocessor(transition.states)
        for memory in (self.memory, *self.secondary_memories):
            memory.add_samples(
                states=processed,
                actions=transition.actions,
                rewards=transition.rewards,
                terminated=transition.terminated,
                truncated=transition.truncated,
            )

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """After every ``rollouts`` training steps: score the episodes; update from ``learning_starts``."""
        if self.training and self.memory is not None:
            self._num_rollout_steps += 1
            if self._num_rollout_steps % self.cfg.rollouts == 0:
                self._update(timestep, timesteps)
        super().post_interaction(timestep, timesteps)

    # ---------------------------------------------------------------- learning
    def _update(self, timestep: int, timesteps: int) -> None:
        block, valid = self.unfinished.join(self._last_rollout())
        scores = episode_returns(block.rewards, block.episode_ends, self.cfg.discount_factor)
        scored = valid & scores.is_finished
        self.unfinished.keep(block, valid, scores.is_finished)
        if timestep < self.cfg.learning_starts:
            return
        episode_scores = scores.returns[scored & scores.is_first]  # one value per finished episode
        if episode_scores.numel() == 0:
            self._warn_no_episode()
            return
        threshold = torch.quantile(episode_scores, self.cfg.percentile)
        is_elite = scored & (scores.returns >= threshold)
        loss = self._elite_cross_entropy(block, is_elite)
        self.optimisation(loss)
        self.optimisation.step_scheduler()
        if self.is_logging:
            self.track_data(tags.POLICY_LOSS, loss.detach())
            self.track_data(tags.RETURN_THRESHOLD, threshold)
            self.track_data(tags.MEAN_DISCOUNTED_RETURNS, episode_scores.mean())
            if self.scheduler is not None:
                self.track_data(tags.LEARNING_RATE, self.optimisation.learning_rate)

    def _last_rollout(self) -> Steps:
        """The memory's rollout as (T, N, ·) `Steps`."""
        memory = self.memory
        return Steps(
            states=memory.get_tensor_by_name("states"),
            actions=memory.get_tensor_by_name("actions"),
            rewards=memory.get_tensor_by_name("rewards"),
            episode_ends=memory.get_tensor_by_name("terminated") | memory.get_tensor_by_name("truncated"),
        )

    def _elite_cross_entropy(self, block: Steps, is_elite: torch.Tensor) -> torch.Tensor:
        """Mean −log π(a|s) over the elite (state, action) pairs: the cross-entropy of the logits."""
        mask = is_elite.squeeze(-1)
        states, actions = block.states[mask], block.actions[mask]
        _, log_prob, _ = self.policy.act({"states": states, "taken_actions": actions}, role="policy")
        return -log_prob.mean()

    def _warn_no_episode(self) -> None:
        if not self._has_warned:
            logger.warning(
                f"CEM: no episode finished within the last rollout ({self.cfg.rollouts} steps per env), so "
                'there is nothing to learn from; increase cfg["rollouts"] beyond the typical episode length '
                "(this warning is shown once)"
            )
            self._has_warned = True
