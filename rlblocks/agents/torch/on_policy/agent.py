"""`OnPolicyAgent`: the rollout family base of PPO (and the on-policy agents built like it).

Data flow: collect ``rollouts`` steps from every env (observations normalised when acting and
stored normalised, time-limit truncations bootstrapped with γ·V(s_final)) -> V(s) of the whole
rollout in one batch, GAE, normalised advantages (`rollout_with_advantages`) -> the subclass's
``_update`` on shuffled mini-batches of that `Rollout` (`minibatches`).

Differs from skrl 0.10 (each agent's module lists its own differences too):
- time-limit truncations are bootstrapped (``time_limit_bootstrap``, on by default), but not a
  step that is both terminated and truncated (gymnasium reports both when an env terminates on
  its last allowed step);
- the value preprocessor's statistics are updated once per update, from the returns;
- observations are stored normalised, so the first mini-batch sees exactly what the policy acted on;
- mini-batches come from a fresh permutation of the rollout at every epoch;
- ``random_timesteps`` works: the log-prob of the random action under the policy is stored;
- recurrent models (`rlblocks.agents.torch.on_policy.recurrent`): each step's input states are
  stored (skrl stores the output states), states are reset at terminations and truncations both
  while acting and inside training sequences (skrl: only at terminations while training), the
  rollout values are those of the stored states, and mini-batches hold whole shuffled sequences.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.base import Agent, Transition
from rlblocks.agents.torch.functional.returns import bootstrap_truncated, compute_gae
from rlblocks.agents.torch.on_policy.losses import Losses
from rlblocks.agents.torch.on_policy.recurrent import (
    RecurrentStates,
    check_sequences,
    sequence_rows,
    shuffled_sequences,
)
from rlblocks.agents.torch.parts import StoredTensor, TensorSchema, split_batch
from rlblocks.agents.torch.parts.schema import create_rollout_tensors
from rlblocks.memories.torch.indexes import split_sizes
from rlblocks.utils import distributed, images


class Rollout(NamedTuple):
    """A rollout flattened to (rollouts·num_envs, ·) rows, or one mini-batch of it.

    ``log_prob`` and ``values`` are those of the acting policy and value (values normalised by
    the value preprocessor, as ``returns``); ``advantages`` are normalised.
    """

    states: torch.Tensor
    actions: torch.Tensor
    log_prob: torch.Tensor
    values: torch.Tensor
    returns: torch.Tensor
    advantages: torch.Tensor


RecurrentRollout = NamedTuple(
    "RecurrentRollout",
    [*Rollout.__annotations__.items(), ("episode_ends", torch.Tensor), ("rnn_states", torch.Tensor)],
)
RecurrentRollout.__doc__ = """A `Rollout` in sequence order (`sequence_rows`) with what recurrent models need.

``episode_ends`` (rows, 1) bool: terminated | truncated of each step; ``rnn_states`` (rows,
Σ num_layers·hidden): the stored input states of every step, flattened side by side
(`RecurrentStates.model_inputs` takes a model's back out).
"""


class OnPolicyAgent(Agent):
    """Base class of the on-policy actor-critics; subclasses write ``_update``.

    Models: "policy" (a stochastic model: actions and log-prob) and "value" (a Deterministic
    model: (N, 1) values); the same object under both roles shares one network.

    Attributes:
        policy, value: the models; ``is_shared``: whether they are one object.
        optimisation: the `OptimisationStep` over both models (with a memory); also
            ``optimizer`` and ``scheduler`` as in skrl.
        schema: the stored tensors.
        policy_inputs: extra entries of every policy ``act`` input dict (empty; RPO passes "alpha").
        recurrent: the `RecurrentStates` of recurrent models, else None.
    """

    def _setup(self) -> None:
        """Validate the models, build the optimizer, scheduler and preprocessors, declare the stored tensors.

        Raises:
            ValueError: no "policy" model, or a memory without a "value" model; for recurrent
                models, rollouts or mini-batches that would cut a sequence.
        """
        cfg = self.cfg
        self.policy = self.models.get("policy")
        self.value = self.models.get("value")
        if self.policy is None or (self.value is None and self.memory is not None):
            raise ValueError(
                f'{type(self).__name__} needs a "policy" and a "value" model; got roles '
                f'{sorted(self.models)}. Pass models={{"policy": ..., "value": ...}} (the same object '
                "twice shares one network)."
            )
        self.is_shared = self.policy is self.value
        self.register_checkpoint_module("policy", self.policy)
        self.register_checkpoint_module("value", self.value)
        parameters = (
            self.policy.parameters()
            if self.is_shared or self.value is None
            else itertools.chain(self.policy.parameters(), self.value.parameters())
        )
        self.optimisation = self.build_optimisation(
            "optimizer", parameters, cfg.learning_rate, cfg.grad_norm_clip
        )
        self.optimizer, self.scheduler = self.optimisation.optimizer, self.optimisation.scheduler
        self._state_preprocessor = self.build_state_preprocessor()
        self._value_preprocessor = self.build_preprocessor(
            "value_preprocessor", cfg.value_preprocessor, cfg.value_preprocessor_kwargs, 1
        )
        self.schema = TensorSchema(
            StoredTensor("states", self.observation_space, self.stored_states_dtype),
            StoredTensor("actions", self.action_space),
            StoredTensor("rewards", 1),
            StoredTensor("terminated", 1, torch.bool),
            StoredTensor("truncated", 1, torch.bool),
            *(StoredTensor(name, 1) for name in ("log_prob", "values", "returns", "advantages")),
        )
        self.policy_inputs: dict[str, Any] = {}
        self._num_rollout_steps = 0
        self._acted_states: torch.Tensor | None = None
        self._acted_processed_states: torch.Tensor | None = None
        self._acted_log_prob: torch.Tensor | None = None
        self._last_next_states: torch.Tensor | None = None
        self.recurrent: RecurrentStates | None = self._recurrent_states()

    @property
    def stored_states_dtype(self) -> torch.dtype:
        """uint8 for raw image observations (no state preprocessor), else float32 (`images.storage_dtype`)."""
        return images.storage_dtype(self.observation_space, self.cfg.state_preprocessor is not None)

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Set up logging, put the models in eval mode, create the memory tensors.

        Recurrent models' states get their memory tensors ``rnn_policy_{i}``/``rnn_value_{i}``.

        Raises:
            ValueError: a memory that does not hold exactly one rollout.
        """
        super().init(trainer_cfg)
        self.set_mode("eval")
        create_rollout_tensors(self, self.schema, self.cfg.rollouts)
        if self.recurrent is not None and self.memory is not None:
            self.recurrent.create_in((self.memory, *self.secondary_memories))

    def _recurrent_states(self) -> RecurrentStates | None:
        """The models' `RecurrentStates` (zeros), None when neither is recurrent; checked at construction.

        Raises:
            ValueError: with a memory, rollouts or mini-batches that would cut a sequence.
        """
        num_envs = None if self.memory is None else self.memory.num_envs
        recurrent = RecurrentStates(self.policy, self.value, self.device, num_envs)
        if not recurrent.is_recurrent:
            return None
        if self.memory is not None:
            check_sequences(
                type(self).__name__,
                recurrent.sequence_length,
                self.cfg.rollouts,
                num_envs,
                self.cfg.mini_batches,
            )
        return recurrent

    def set_running_mode(self, mode: str) -> None:
        """Set the running mode; recurrent states start again from zeros."""
        super().set_running_mode(mode)
        if self.recurrent is not None:
            self.recurrent.reset()

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """Sample actions (deterministic in eval running mode unless stochastic evaluation is asked for)."""
        processed = self._state_preprocessor(states, train=self.training)
        recurrent = self.recurrent
        rnn = {} if recurrent is None else recurrent.acting_inputs("policy", processed.shape[0])
        if self.is_random_step(timestep):
            actions = self.policy.random_act({"states": processed}, role="policy")[0]
            _, log_prob, outputs = self.policy.act(
                {"states": processed, "taken_actions": actions, **rnn, **self.policy_inputs}, role="policy"
            )
        else:
            actions, log_prob, outputs = self.policy.act(
                {"states": processed, **rnn, **self.policy_inputs}, role="policy"
            )
            if not self.training and not self.stochastic_evaluation:
                actions = self._deterministic_actions(actions, outputs)
        if recurrent is not None:
            self._carry_states(recurrent, processed, outputs)
        self._acted_states, self._acted_processed_states, self._acted_log_prob = states, processed, log_prob
        return actions, log_prob, outputs

    def _carry_states(
        self, recurrent: RecurrentStates, processed: torch.Tensor, outputs: Mapping[str, Any]
    ) -> None:
        """Keep the policy's next states; while training, step a separate recurrent value too."""
        recurrent.keep_outputs("policy", outputs)
        if self.training and "value" in recurrent.sizes:
            value_outputs = self.value.act(
                {"states": processed, **recurrent.acting_inputs("value", processed.shape[0])}, role="value"
            )[2]
            recurrent.keep_outputs("value", value_outputs)

    def _end_step(self, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Recurrent models: the next states, zero where an episode ended (terminated or truncated)."""
        if self.recurrent is not None:
            self.recurrent.advance(None if self.episode_end_hint is False else terminated | truncated)

    def _store_transition(self, transition: Transition, timestep: int, timesteps: int) -> None:
        """Store the step with its (normalised) states and log-prob.

        A step cut by a time limit (truncated and not terminated) gets γ·V(s_final) added to its
        reward; V is evaluated only when an episode may have ended (`episode_end_hint`).
        """
        if self.memory is None:
            return
        states, rewards, terminated, truncated = (
            transition.states,
            transition.rewards,
            transition.terminated,
            transition.truncated,
        )
        processed = self._acted_processed_states
        if states is not self._acted_states:
            processed = self._state_preprocessor(states)
        if self.cfg.time_limit_bootstrap and self.episode_end_hint is not False:
            is_cut_by_time_limit = truncated & ~terminated
            rnn = None
            if self.recurrent is not None and self.recurrent.role_of("value") is not None:
                rnn = self.recurrent.next_states[self.recurrent.role_of("value")]
            rewards = bootstrap_truncated(
                rewards,
                is_cut_by_time_limit,
                self._values(transition.next_states, rnn=rnn),
                self.cfg.discount_factor,
            )
        # V(s) is not computed here: the update evaluates the whole rollout's stored states in one
        # batch, with the same parameters and statistics, which gives the same values for less work.
        for memory in (self.memory, *self.secondary_memories):
            memory.add_samples(
                states=processed,
                actions=transition.actions,
                rewards=rewards,
                terminated=terminated,
                truncated=truncated,
                log_prob=self._acted_log_prob,
                **({} if self.recurrent is None else self.recurrent.stored()),
            )
        self._last_next_states = transition.next_states

    def _values(
        self, states: torch.Tensor, is_preprocessed: bool = False, rnn: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """V(s) in reward units (value preprocessing undone) of (N, obs) states (rnn: a recurrent value's)."""
        processed = states if is_preprocessed else self._state_preprocessor(states)
        inputs = {"states": processed} if rnn is None else {"states": processed, "rnn": rnn}
        return self._value_preprocessor(self.value.act(inputs, role="value")[0], inverse=True)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update after every ``rollouts`` stored steps (from ``learning_starts``); log; checkpoint."""
        if self.training and self.memory is not None and not self.is_step_skipped:
            self._num_rollout_steps += 1
            if self._num_rollout_steps % self.cfg.rollouts == 0 and timestep >= self.cfg.learning_starts:
                self.set_mode("train")
                self._update(timestep, timesteps)
                self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    # ---------------------------------------------------------------- learning
    def rollout_with_advantages(self) -> Rollout:
        """The last rollout, flattened, with V(s), GAE returns and normalised advantages.

        Every stored state is evaluated in one batch (a recurrent value in eval mode, each step
        with its stored input states: the values it gave while acting). Values, returns and
        advantages are also written into the memory (skrl's agents read them from there). With
        recurrent models the rollout is a `RecurrentRollout` in sequence order.
        """
        memory, recurrent = self.memory, self.recurrent
        value_role = None if recurrent is None else recurrent.role_of("value")
        with torch.no_grad():
            self.value.train(False)
            states = memory.get_tensor_by_name("states")
            rnn = last_rnn = None
            if value_role is not None:
                rnn = recurrent.model_inputs("value", recurrent.stored_rows(memory))
                last_rnn = recurrent.states[value_role]
            values = self._values(states.reshape(-1, states.shape[-1]), is_preprocessed=True, rnn=rnn)
            values = values.reshape(*states.shape[:2], 1)
            last_values = self._values(self._last_next_states, rnn=last_rnn)
            self.value.train(True)
            episode_ends = memory.get_tensor_by_name("terminated") | memory.get_tensor_by_name("truncated")
            advantages, returns = compute_gae(
                memory.get_tensor_by_name("rewards"),
                values,
                last_values,
                episode_ends,
                self.cfg.discount_factor,
                self.cfg.gae_lambda,
            )
            advantages = self.normalised_advantages(advantages)
            normalized_returns = self._value_preprocessor(returns, train=True)
            normalized_values = self._value_preprocessor(values)
            memory.set_tensor_by_name("values", normalized_values)
            memory.set_tensor_by_name("returns", normalized_returns)
            memory.set_tensor_by_name("advantages", advantages)
        rows = states.shape[0] * states.shape[1]
        if recurrent is not None:
            return self._recurrent_rollout(normalized_values, normalized_returns, advantages, episode_ends)
        return Rollout(
            states=memory.get_tensor_by_name("states", keepdim=False),
            actions=memory.get_tensor_by_name("actions", keepdim=False),
            log_prob=memory.get_tensor_by_name("log_prob", keepdim=False),
            values=normalized_values.reshape(rows, 1),
            returns=normalized_returns.reshape(rows, 1),
            advantages=advantages.reshape(rows, 1),
        )

    def normalised_advantages(self, advantages: torch.Tensor) -> torch.Tensor:
        """(A − mean) / (std + 1e-8); under torchrun mean and std are those of every rank's advantages."""
        if self._is_distributed:
            mean, std = distributed.pooled_mean_std(advantages)
        else:
            mean, std = advantages.mean(), advantages.std()
        return (advantages - mean) / (std + 1e-8)

    def _recurrent_rollout(
        self,
        values: torch.Tensor,
        returns: torch.Tensor,
        advantages: torch.Tensor,
        episode_ends: torch.Tensor,
    ) -> RecurrentRollout:
        """The rollout's rows in sequence order (`sequence_rows`), with episode ends and stored states."""
        memory, recurrent = self.memory, self.recurrent
        order = sequence_rows(memory.memory_size, memory.num_envs, values.device)
        flat = [memory.get_tensor_by_name(name, keepdim=False) for name in ("states", "actions", "log_prob")]
        computed = [tensor.reshape(-1, 1) for tensor in (values, returns, advantages, episode_ends)]
        return RecurrentRollout(
            *(tensor[order] for tensor in (*flat, *computed)), rnn_states=recurrent.stored_rows(memory, order)
        )

    def minibatches(self, rollout: Rollout, mini_batches: int) -> Iterator[Rollout]:
        """``rollout`` in ``mini_batches`` batches, shuffled anew at each call (skrl 0.10 doesn't shuffle).

        A `RecurrentRollout` is shuffled by whole sequences; each batch holds whole sequences.
        """
        num_rows = rollout.states.shape[0]
        device = rollout.states.device
        if self.recurrent is not None:
            length = self.recurrent.sequence_length
            order = shuffled_sequences(num_rows, length, device)
            return iter(split_batch(rollout, order, split_sizes(num_rows, mini_batches, length)))
        order = torch.randperm(num_rows, device=device)
        return iter(split_batch(rollout, order, split_sizes(num_rows, mini_batches)))

    def sequence_inputs(self, batch: Rollout | RecurrentRollout, role: str) -> dict[str, Any]:
        """``{"rnn": sequence states, "terminated": episode ends}`` for a recurrent ``role``, else {}."""
        recurrent = self.recurrent
        if recurrent is None or recurrent.role_of(role) is None:
            return {}
        return {"rnn": recurrent.model_inputs(role, batch.rnn_states), "terminated": batch.episode_ends}

    def taken_action_log_prob(self, batch: Rollout) -> torch.Tensor:
        """The log-prob (B, 1) of the batch's taken actions under the current policy, with gradients."""
        inputs = {"states": batch.states, "taken_actions": batch.actions, **self.policy_inputs}
        if self.recurrent is not None:
            inputs.update(self.sequence_inputs(batch, "policy"))
        return self.policy.act(inputs, role="policy")[1]

    def predicted_values(self, batch: Rollout) -> torch.Tensor:
        """V(s) of the batch's states under the current value model, (B, 1), with gradients."""
        if self.recurrent is not None:
            return self.value.act(
                {"states": batch.states, **self.sequence_inputs(batch, "value")}, role="value"
            )[0]
        return self.value.act({"states": batch.states}, role="value")[0]

    def entropy_loss(self, scale: float, device: torch.device) -> torch.Tensor:
        """−scale · mean entropy of the policy's last distribution (0-d; zero, not computed, for scale 0)."""
        if not scale:
            return torch.zeros((), device=device)
        return -scale * self.policy.get_entropy(role="policy").mean()

    def track_losses(self, losses: Losses | None) -> None:
        """Track an update's mean losses and KL, the policy's std and the learning rate.

        Nothing is tracked when not logging or when no mini-batch ran (``losses`` None).
        """
        if not self.is_logging or losses is None:
            return
        self.track_data(tags.POLICY_LOSS, losses.policy)
        self.track_data(tags.VALUE_LOSS, losses.value)
        if self.cfg.entropy_loss_scale:
            self.track_data(tags.ENTROPY_LOSS, losses.entropy)
        self.track_data(tags.APPROX_KL, losses.approx_kl)
        distribution = self.policy.distribution(role="policy")
        if isinstance(distribution, (torch.distributions.Normal, torch.distributions.MultivariateNormal)):
            self.track_data(tags.POLICY_STD, distribution.stddev.mean())
        self.track_data(tags.LEARNING_RATE, self.optimisation.learning_rate)
