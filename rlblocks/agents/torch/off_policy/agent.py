"""`OffPolicyAgent`: what SAC, DDPG, TD3, DQN and DDQN share around their update rule.

Data flow: act -> store (s, a, r, s', terminated) in the replay memory -> from ``learning_starts``,
at every update: ``gradient_steps`` x (sample a fresh batch, preprocess it once, the agent's
losses and optimizer steps, target-network update).

Raw observations are stored; the state preprocessor's statistics are updated when acting and
each sampled batch is normalised once, with the current statistics, when it is drawn.

Differs from skrl 0.10: a fresh batch is sampled for every gradient step and its states are
preprocessed once (#19); only termination stops bootstrapping (the env wrappers give the true
final observation of a truncated episode as s'); in eval running mode the agents act
deterministically, store nothing and never update; checkpoints hold the optimizers, schedulers,
targets, preprocessor and counters a resume needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, NamedTuple

import torch

from rlblocks.agents.torch.base import Agent
from rlblocks.agents.torch.off_policy.config import OffPolicyConfig
from rlblocks.agents.torch.optimizers import adam
from rlblocks.agents.torch.preprocessing import build_preprocessor, build_scheduler
from rlblocks.models.torch import Model
from rlblocks.utils import spaces

MEMORY_TENSORS = ("states", "actions", "rewards", "next_states", "terminated")
"""What the replay memory holds per transition, in `Transitions` order; states are stored raw."""


class Transitions(NamedTuple):
    """A sampled batch; states preprocessed. Every tensor is (B, ·)."""

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_states: torch.Tensor
    terminated: torch.Tensor


class StepCounter:
    """A counter saved in checkpoints (e.g. TD3's critic updates, which set the policy-delay phase)."""

    def __init__(self) -> None:
        self.count = 0

    def state_dict(self) -> dict[str, int]:
        """The count, for checkpoints."""
        return {"count": self.count}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        """Restore the count from a checkpoint."""
        self.count = int(state["count"])


class OffPolicyAgent(Agent):
    """Base class of the replay-based agents; subclasses write ``act`` and ``_update``.

    Subclasses name their model roles in class attributes: ``ACTING_ROLE`` (always needed),
    ``TRAINING_ROLES`` (needed to train, i.e. when a memory is given) and ``TARGET_ROLES``
    (target role -> the role it follows). Target networks are frozen and hard-copied from their
    source here, then follow it through `update_targets`.
    """

    ACTING_ROLE: ClassVar[str] = "policy"
    TRAINING_ROLES: ClassVar[tuple[str, ...]] = ()
    TARGET_ROLES: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None,
        cfg: OffPolicyConfig,
    ) -> None:
        """Check the models, pair the targets, build the state preprocessor, register checkpoints.

        Raises:
            ValueError: a missing model, or a target network that is its source network.
        """
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self._check_models()
        for role, model in self.models.items():
            if model is not None:
                self.register_checkpoint_module(role, model)
        self._target_pairs = [
            (self.models[target], self.models[source])
            for target, source in self.TARGET_ROLES.items()
            if self.models.get(target) is not None and self.models.get(source) is not None
        ]
        for target, source in self._target_pairs:
            target.freeze_parameters(True)
            target.update_parameters(source, polyak=1)

        self._state_preprocessor = build_preprocessor(
            self.cfg.state_preprocessor,
            self.cfg.state_preprocessor_kwargs,
            self.observation_space,
            self.device,
        )
        if self.cfg.state_preprocessor is not None:
            self.register_checkpoint_module("state_preprocessor", self._state_preprocessor)
        self._schedulers: dict[torch.optim.Optimizer, Any] = {}
        self._plain_modules: list[torch.nn.Module] | None = None
        if spaces.is_box(self.action_space):
            self.action_low, self.action_high = spaces.box_bounds(self.action_space, self.device)

    def _check_models(self) -> None:
        name = type(self).__name__
        needed = [self.ACTING_ROLE] + (list(self.TRAINING_ROLES) if self.memory is not None else [])
        missing = [role for role in needed if self.models.get(role) is None]
        if missing:
            example = ", ".join(f'"{role}": ...' for role in (self.ACTING_ROLE, *self.TRAINING_ROLES))
            raise ValueError(
                f"{name} needs the models {missing}; got roles {sorted(self.models)}. Pass "
                f'models={{{example}}} (only "{self.ACTING_ROLE}" is needed to act without a memory).'
            )
        for target, source in self.TARGET_ROLES.items():
            target_model = self.models.get(target)
            if target_model is not None and target_model is self.models.get(source):
                raise ValueError(
                    f'{name}: "{target}" is the same object as "{source}"; a target network must be a '
                    f"separate instance of the same model class (it is copied from {source} here)."
                )

    # ----------------------------------------------------------------- set-up
    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Set up logging, put the models in eval mode, declare the replay tensors."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        sizes = {
            "states": self.observation_space,
            "actions": self.action_space,
            "rewards": 1,
            "next_states": self.observation_space,
            "terminated": 1,
        }
        dtypes = {
            "actions": torch.int64 if spaces.is_discrete(self.action_space) else torch.float32,
            "terminated": torch.bool,
        }
        for name in MEMORY_TENSORS:
            self.memory.create_tensor(name=name, size=sizes[name], dtype=dtypes.get(name, torch.float32))

    def build_optimizer(
        self,
        name: str,
        parameters: Iterable[torch.nn.Parameter],
        learning_rate: float,
        is_scheduled: bool = True,
    ) -> Any:
        """An Adam optimizer "<x>_optimizer" and, if ``is_scheduled``, the configured "<x>_scheduler".

        Both are registered for checkpoints.
        """
        optimizer = adam(parameters, learning_rate)
        self.register_checkpoint_module(name, optimizer)
        if not is_scheduled:
            return optimizer
        scheduler = build_scheduler(
            self.cfg.learning_rate_scheduler, optimizer, self.cfg.learning_rate_scheduler_kwargs
        )
        if scheduler is not None:
            self._schedulers[optimizer] = scheduler
            self.register_checkpoint_module(name.replace("optimizer", "scheduler"), scheduler)
        return optimizer

    def set_mode(self, mode: str) -> None:
        """Put every model in "train" or "eval" mode, as `Agent.set_mode`; called twice per update.

        ``nn.Module.train`` walks each model's module tree; when no model customises ``set_mode``
        or ``train``, the mode flag of every sub-module is set directly from a list made once,
        which costs a tenth as much (a DQN update is about a millisecond).
        """
        if mode not in ("train", "eval"):
            super().set_mode(mode)  # raises the error
            return
        if self._plain_modules is None:
            self._plain_modules = _modules_with_default_train(self.models.values())
        if not self._plain_modules:
            super().set_mode(mode)
            return
        is_training = mode == "train"
        for module in self._plain_modules:
            # what nn.Module.train sets, without its per-module __setattr__ checks
            object.__setattr__(module, "training", is_training)

    # ------------------------------------------------------------------ hooks
    def preprocess(self, states: torch.Tensor) -> torch.Tensor:
        """States as the models see them; while training this also updates the preprocessor's statistics."""
        return self._state_preprocessor(states, train=self.training)

    def is_random_step(self, timestep: int) -> bool:
        """Whether to act uniformly at random (the first ``random_timesteps`` training steps)."""
        return self.training and timestep < self.cfg.random_timesteps

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
        """Track the episode statistics; when training, store the (shaped) transition.

        ``truncated`` is not stored: a truncated step bootstraps from ``next_states``, which the env
        wrappers fill with the true final observation.
        """
        super().record_transition(
            states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps
        )
        if not self.training or self.memory is None:
            return
        if self.cfg.rewards_shaper is not None:
            rewards = self.cfg.rewards_shaper(rewards, timestep, timesteps)
        for memory in (self.memory, *self.secondary_memories):
            memory.add_samples(
                states=states,
                actions=actions,
                rewards=rewards,
                next_states=next_states,
                terminated=terminated,
            )

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update (in train mode) when training from ``learning_starts`` on; then log and checkpoint."""
        if (
            self.training
            and self.memory is not None
            and timestep >= self.cfg.learning_starts
            and self.is_update_step(timestep)
        ):
            self.set_mode("train")
            self._update(timestep, timesteps)
            self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def is_update_step(self, timestep: int) -> bool:
        """Whether to update at this timestep (every step here; DQN every ``update_interval``)."""
        return True

    # ---------------------------------------------------------- update helpers
    def sample_batch(self) -> Transitions:
        """A fresh uniformly sampled batch of ``batch_size`` transitions, states preprocessed once."""
        states, actions, rewards, next_states, terminated = self.memory.sample(
            MEMORY_TENSORS, self.cfg.batch_size
        )[0]
        return Transitions(
            self._state_preprocessor(states),
            actions,
            rewards,
            self._state_preprocessor(next_states),
            terminated,
        )

    def optimise(
        self,
        optimizer: torch.optim.Optimizer,
        loss: torch.Tensor,
        parameters: list[torch.nn.Parameter],
        grad_norm_clip: float = 0,
    ) -> None:
        """One optimizer step on ``loss``, gradients first clipped to ``grad_norm_clip`` (0: not clipped).

        The optimizer's learning-rate scheduler, if any, steps right after it.
        """
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_norm_clip > 0:
            torch.nn.utils.clip_grad_norm_(parameters, grad_norm_clip, foreach=True)
        optimizer.step()
        scheduler = self._schedulers.get(optimizer)
        if scheduler is not None:
            scheduler.step()

    def update_targets(self, polyak: float | None = None) -> None:
        """Every target network moves towards its source: θ̄ ← (1 − ρ)·θ̄ + ρ·θ (ρ = 1: a hard copy)."""
        polyak = self.cfg.polyak if polyak is None else polyak
        for target, source in self._target_pairs:
            target.update_parameters(source, polyak=polyak)

    def track_statistics(self, tag: str, values: torch.Tensor) -> None:
        """Track the max, min and mean of ``values`` under ``tag (max)``, ``tag (min)``, ``tag (mean)``."""
        self.track_data(f"{tag} (max)", values.max().item())
        self.track_data(f"{tag} (min)", values.min().item())
        self.track_data(f"{tag} (mean)", values.mean().item())

    @property
    def is_logging(self) -> bool:
        """Whether tracked data is written (``write_interval`` > 0); tracking costs syncs, skip it if not."""
        return self.cfg.experiment.write_interval > 0


def _modules_with_default_train(models: Iterable[Any]) -> list[torch.nn.Module]:
    """Every sub-module of ``models``, or [] if a model overrides ``set_mode`` or a module ``train``."""
    modules = []
    for model in models:
        if model is None:
            continue
        if type(model).set_mode is not Model.set_mode:
            return []
        modules.extend(model.modules())
    if any(type(module).train is not torch.nn.Module.train or "train" in vars(module) for module in modules):
        return []
    return modules


@contextlib.contextmanager
def frozen(parameters: list[torch.nn.Parameter]) -> Iterator[None]:
    """Turn off the gradients of ``parameters`` (trainable ones) for the operations inside the block.

    An actor's loss backpropagates *through* the critic to the actions; freezing the critic skips
    computing gradients for its weights, which the actor step does not use.
    """
    parameters = [parameter for parameter in parameters if parameter.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)
