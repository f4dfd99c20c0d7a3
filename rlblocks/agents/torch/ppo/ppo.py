"""PPO: on-policy actor-critic with a clipped surrogate objective (Schulman et al. 2017, arXiv:1707.06347).

Data flow: collect ``rollouts`` steps from every env -> bootstrap truncations, GAE -> ``learning_epochs``
x ``mini_batches`` clipped updates of policy and value -> repeat.

Differs from skrl 0.10:
- time-limit truncations are bootstrapped with γ·V(s_final) (``time_limit_bootstrap``, on by default);
- the KL early stop ends the whole update, not just the current epoch's mini-batch loop (bug #17);
- the value preprocessor's statistics are updated once per update, from the returns (bug #17);
- loss averages divide by the number of mini-batches actually run (bug #17);
- observations are normalised when acting (statistics updated while training) and stored normalised,
  so the first mini-batch of an update sees exactly the inputs the actions were drawn from;
- mini-batches are drawn from a fresh permutation of the rollout at every epoch;
- ``random_timesteps`` works: the log-prob of the random action under the policy is stored (bug #15);
- categorical policies may use an entropy bonus (bug #4) and log no NaN standard deviation.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, NamedTuple

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.base import Agent
from rlblocks.agents.torch.functional.losses import approximate_kl, clipped_surrogate_loss, clipped_value_loss
from rlblocks.agents.torch.functional.returns import bootstrap_truncated, compute_gae
from rlblocks.agents.torch.optimizers import adam
from rlblocks.agents.torch.ppo.config import PPOConfig
from rlblocks.agents.torch.preprocessing import build_preprocessor, build_scheduler, step_scheduler

MEMORY_TENSORS = (
    "states",
    "actions",
    "rewards",
    "terminated",
    "truncated",
    "log_prob",
    "values",
    "returns",
    "advantages",
)
"""What the memory holds per step; states are stored already preprocessed."""
BATCH_TENSORS = ("states", "actions", "log_prob", "values", "returns", "advantages")
"""What a training mini-batch holds, in `Batch` order."""


class Batch(NamedTuple):
    """One mini-batch; every tensor is (B, ·)."""

    states: torch.Tensor
    actions: torch.Tensor
    old_log_prob: torch.Tensor
    old_values: torch.Tensor
    returns: torch.Tensor
    advantages: torch.Tensor


class Losses(NamedTuple):
    """The losses of one mini-batch (0-d tensors) and the approximate KL (a float)."""

    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    approx_kl: float

    @property
    def total(self) -> torch.Tensor:
        """What the optimizer minimises."""
        return self.policy + self.value + self.entropy


class PPO(Agent):
    """Proximal Policy Optimization.

    Models: "policy" (a Gaussian, MultivariateGaussian, Categorical or MultiCategorical model:
    actions and log-prob) and "value" (a Deterministic model: (N, 1) values). The same object under
    both roles shares one network.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | PPOConfig | None = None,
    ) -> None:
        """Validate the models, build the optimizer, scheduler and preprocessors, register checkpoints.

        Raises:
            ValueError: no "policy" model, or a memory without a "value" model.
            KeyError: an unknown config key (the message names the nearest valid one).
        """
        super().__init__(models, memory, observation_space, action_space, device, PPOConfig.from_dict(cfg))
        self.policy = self.models.get("policy")
        self.value = self.models.get("value")
        if self.policy is None or (self.value is None and self.memory is not None):
            raise ValueError(
                f'PPO needs a "policy" and a "value" model; got roles {sorted(self.models)}. Pass '
                'models={"policy": ..., "value": ...} (the same object twice shares one network).'
            )
        cfg = self.cfg
        self.is_shared = self.policy is self.value
        self.register_checkpoint_module("policy", self.policy)
        self.register_checkpoint_module("value", self.value)

        parameters = (
            self.policy.parameters()
            if self.is_shared or self.value is None
            else itertools.chain(self.policy.parameters(), self.value.parameters())
        )
        self._trained_parameters = list(parameters)
        self.optimizer = adam(self._trained_parameters, cfg.learning_rate)
        self.register_checkpoint_module("optimizer", self.optimizer)
        self.scheduler = build_scheduler(
            cfg.learning_rate_scheduler, self.optimizer, cfg.learning_rate_scheduler_kwargs
        )
        if self.scheduler is not None:
            self.register_checkpoint_module("scheduler", self.scheduler)

        self._state_preprocessor = build_preprocessor(
            cfg.state_preprocessor, cfg.state_preprocessor_kwargs, self.observation_space, self.device
        )
        self._value_preprocessor = build_preprocessor(
            cfg.value_preprocessor, cfg.value_preprocessor_kwargs, 1, self.device
        )
        if cfg.state_preprocessor is not None:
            self.register_checkpoint_module("state_preprocessor", self._state_preprocessor)
        if cfg.value_preprocessor is not None:
            self.register_checkpoint_module("value_preprocessor", self._value_preprocessor)

        self._rollout = 0
        self._acted_states: torch.Tensor | None = None
        self._acted_processed_states: torch.Tensor | None = None
        self._acted_log_prob: torch.Tensor | None = None
        self._last_next_states: torch.Tensor | None = None

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Set up logging, put the models in eval mode, declare the memory tensors."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        if self.memory.memory_size != self.cfg.rollouts:
            raise ValueError(
                f"PPO's memory must hold exactly one rollout: memory_size={self.memory.memory_size} but "
                f'cfg["rollouts"]={self.cfg.rollouts}; create RandomMemory(memory_size={self.cfg.rollouts}, '
                "num_envs=env.num_envs)."
            )
        sizes = {
            "states": self.observation_space,
            "actions": self.action_space,
            "rewards": 1,
            "terminated": 1,
            "truncated": 1,
            "log_prob": 1,
            "values": 1,
            "returns": 1,
            "advantages": 1,
        }
        for name in MEMORY_TENSORS:
            dtype = torch.bool if name in ("terminated", "truncated") else torch.float32
            self.memory.create_tensor(name=name, size=sizes[name], dtype=dtype)

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """Sample actions (deterministic in eval running mode unless stochastic evaluation is asked for)."""
        processed = self._state_preprocessor(states, train=self.training)
        if self.training and timestep < self.cfg.random_timesteps:
            actions = self.policy.random_act({"states": processed}, role="policy")[0]
            _, log_prob, outputs = self.policy.act(
                {"states": processed, "taken_actions": actions}, role="policy"
            )
        else:
            actions, log_prob, outputs = self.policy.act({"states": processed}, role="policy")
            if not self.training and not self.stochastic_evaluation:
                actions = self._deterministic_actions(actions, outputs)
        self._acted_states, self._acted_processed_states, self._acted_log_prob = states, processed, log_prob
        return actions, log_prob, outputs

    def record_transition(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
        truncated: torch.Tensor,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        """Track the episode statistics; when training, store the transition and its log-prob."""
        super().record_transition(
            states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps
        )
        if not self.training or self.memory is None:
            return
        if states is self._acted_states:
            processed = self._acted_processed_states
        else:
            processed = self._state_preprocessor(states)
        if self.cfg.rewards_shaper is not None:
            rewards = self.cfg.rewards_shaper(rewards, timestep, timesteps)
        if self.cfg.time_limit_bootstrap and self.episode_statistics.any_ended and bool(truncated.any()):
            rewards = bootstrap_truncated(
                rewards, truncated, self._values(next_states), self.cfg.discount_factor
            )
        # V(s) is not computed here: the update evaluates the whole rollout's stored states in one
        # batch, with the same parameters and statistics, which gives the same values for less work.
        samples = {
            "states": processed,
            "actions": actions,
            "rewards": rewards,
            "terminated": terminated,
            "truncated": truncated,
            "log_prob": self._acted_log_prob,
        }
        for memory in (self.memory, *self.secondary_memories):
            memory.add_samples(**samples)
        self._last_next_states = next_states

    def _values(self, states: torch.Tensor, is_preprocessed: bool = False) -> torch.Tensor:
        """V(s) in reward units (value preprocessing undone) for (N, obs) states."""
        processed = states if is_preprocessed else self._state_preprocessor(states)
        return self._value_preprocessor(self.value.act({"states": processed}, role="value")[0], inverse=True)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update after every ``rollouts`` training steps (from ``learning_starts``); log; checkpoint."""
        if self.training and self.memory is not None:
            self._rollout += 1
            if self._rollout % self.cfg.rollouts == 0 and timestep >= self.cfg.learning_starts:
                self.set_mode("train")
                self._update(timestep, timesteps)
                self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    # ---------------------------------------------------------------- learning
    def _update(self, timestep: int, timesteps: int) -> None:
        self._advantages_for_last_rollout()
        totals = {"policy": 0.0, "value": 0.0, "entropy": 0.0, "approx_kl": 0.0}
        num_batches = 0
        is_kl_exceeded = False
        for _ in range(self.cfg.learning_epochs):
            epoch_kls = []
            for batch in self._minibatches():
                losses = self._losses(batch)
                epoch_kls.append(losses.approx_kl)
                if self._kl_too_large(losses):
                    is_kl_exceeded = True
                    break
                self._optimise(losses.total)
                num_batches += 1
                for name in ("policy", "value", "entropy"):
                    totals[name] += getattr(losses, name).item()
                totals["approx_kl"] += losses.approx_kl
            step_scheduler(self.scheduler, epoch_kls)
            if is_kl_exceeded:
                break
        self._track(totals, num_batches)

    def _advantages_for_last_rollout(self) -> None:
        """V(s) of the rollout, GAE, then values, returns and normalised advantages into memory.

        Every stored state is evaluated in one batch (a recurrent value model would need its states
        replayed in order instead; that is where such support plugs in).
        """
        memory = self.memory
        with torch.no_grad():
            self.value.train(False)
            states = memory.get_tensor_by_name("states")
            values = self._values(states.reshape(-1, states.shape[-1]), is_preprocessed=True)
            values = values.reshape(*states.shape[:2], 1)
            last_values = self._values(self._last_next_states)
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
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            normalized_returns = self._value_preprocessor(returns, train=True)
            memory.set_tensor_by_name("values", self._value_preprocessor(values))
            memory.set_tensor_by_name("returns", normalized_returns)
            memory.set_tensor_by_name("advantages", advantages)

    def _minibatches(self) -> list[Batch]:
        """The rollout in ``mini_batches`` batches, shuffled anew at each call (skrl 0.10 doesn't shuffle)."""
        order = torch.randperm(len(self.memory), device=self.memory.device)
        batches = self.memory.sample_by_index(BATCH_TENSORS, order, mini_batches=self.cfg.mini_batches)
        return [Batch(*tensors) for tensors in batches]

    def _losses(self, batch: Batch) -> Losses:
        cfg = self.cfg
        _, log_prob, _ = self.policy.act(
            {"states": batch.states, "taken_actions": batch.actions}, role="policy"
        )
        with torch.no_grad():
            approx_kl = float(approximate_kl(log_prob, batch.old_log_prob))
        policy_loss = clipped_surrogate_loss(log_prob, batch.old_log_prob, batch.advantages, cfg.ratio_clip)
        entropy_loss = torch.zeros((), device=log_prob.device)
        if cfg.entropy_loss_scale:
            entropy_loss = -cfg.entropy_loss_scale * self.policy.get_entropy(role="policy").mean()
        predicted_values = self.value.act({"states": batch.states}, role="value")[0]
        value_loss = cfg.value_loss_scale * clipped_value_loss(
            predicted_values, batch.old_values, batch.returns, cfg.value_clip, cfg.clip_predicted_values
        )
        return Losses(policy_loss, value_loss, entropy_loss, approx_kl)

    def _kl_too_large(self, losses: Losses) -> bool:
        return self.cfg.kl_threshold > 0 and losses.approx_kl > self.cfg.kl_threshold

    def _optimise(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_norm_clip > 0:
            torch.nn.utils.clip_grad_norm_(self._trained_parameters, self.cfg.grad_norm_clip, foreach=True)
        self.optimizer.step()

    def _track(self, totals: dict[str, float], num_batches: int) -> None:
        if self.cfg.experiment.write_interval <= 0 or num_batches == 0:
            return
        self.track_data(tags.POLICY_LOSS, totals["policy"] / num_batches)
        self.track_data(tags.VALUE_LOSS, totals["value"] / num_batches)
        if self.cfg.entropy_loss_scale:
            self.track_data(tags.ENTROPY_LOSS, totals["entropy"] / num_batches)
        self.track_data(tags.APPROX_KL, totals["approx_kl"] / num_batches)
        distribution = self.policy.distribution(role="policy")
        stddev = getattr(distribution, "stddev", None)
        if torch.is_tensor(stddev) and not torch.isnan(stddev).any():
            self.track_data(tags.POLICY_STD, stddev.mean().item())
        self.track_data(tags.LEARNING_RATE, self.optimizer.param_groups[0]["lr"])
