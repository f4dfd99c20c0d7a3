"""`OffPolicyAgent`: the replay-memory family base of SAC, DDPG, TD3, DQN and DDQN.

Data flow: act -> store (s, a, r, s', terminated) in the replay memory -> from ``learning_starts``,
at every update: ``gradient_steps`` x (sample a fresh batch, preprocess it once, the agent's
losses and optimizer steps, target-network update).

Raw observations are stored; the state preprocessor's statistics are updated when acting and
each sampled batch is normalised once, with the current statistics, when it is drawn.

Differs from skrl 0.10: a fresh batch is sampled for every gradient step and its states are
preprocessed once (#19); only termination stops bootstrapping (the env wrappers give the true
final observation of a truncated episode as s'); in eval running mode the agents act
deterministically, store nothing and never update; checkpoints hold the optimizers, schedulers,
targets, preprocessor and counters a resume needs, and the replay memory is saved beside each
checkpoint (``experiment.checkpoint_memory``, see `replay_checkpoint`), so a resumed run samples
from the same buffer; a resume without it says so and waits ``learning_starts`` new steps.

Image observations (``replay_storage``, see `rlblocks.memories.torch.frames`): by default a
transition stores one observation (one frame of a (k, H, W) frame stack) instead of both states
and next states; the next state comes from the next row of the same env (the true final
observation of an ended episode from a small side store) and stacks are rebuilt when sampled,
bitwise as a separate next_states tensor would hold them.

Recurrent models (SAC, DDPG, TD3: ``RECURRENT_ROLES``): their states are carried while acting,
stored with each transition, and trained on whole sequences; see `off_policy.recurrent`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import torch

from rlblocks import logger
from rlblocks.agents.torch.base import Agent, Transition
from rlblocks.agents.torch.off_policy import replay_checkpoint as replay
from rlblocks.agents.torch.off_policy.config import OffPolicyConfig
from rlblocks.agents.torch.off_policy.recurrent import RecurrentStates, ReplayBatch
from rlblocks.agents.torch.parts import OptimisationStep, StoredTensor, TargetNetworks, TensorSchema
from rlblocks.memories.torch.frames import FrameReplay, frames_per_row
from rlblocks.memories.torch.snapshot import apply_state
from rlblocks.utils import images, spaces
from rlblocks.utils.checkpoint import CheckpointError


class OffPolicyAgent(Agent):
    """Base class of the replay-based agents; subclasses write ``act`` and ``_update``, or hold a learner.

    A learner is a part with ``act(states, timestep)`` and ``update(timestep)`` (DQN and DDQN's
    `DeepQLearning`), set as ``self.learner`` in `_setup`; ``act`` and ``_update`` call it.

    Subclasses name their model roles in class attributes: ``ACTING_ROLE`` (always needed),
    ``TRAINING_ROLES`` (needed to train, i.e. when a memory is given) and ``TARGET_ROLES``
    (target role -> the role it follows). Target networks are frozen and hard-copied from their
    source here (`TargetNetworks`), then follow it through `update_targets`. ``RECURRENT_ROLES``
    lists the roles whose model may be recurrent (a target follows its source).

    Attributes:
        schema: the stored tensors (states raw): states, actions, rewards, next_states, terminated
            (and truncated with recurrent models, for the episode ends inside sequences); without
            states and next_states when ``frames_per_row`` (the `FrameReplay` of each memory stores them).
        targets: the target networks.
        recurrence: the recurrent models' states (`RecurrentStates`), None when no model is recurrent.
    """

    CONFIG_CLASS: ClassVar[type[OffPolicyConfig]] = OffPolicyConfig
    ACTING_ROLE: ClassVar[str] = "policy"
    TRAINING_ROLES: ClassVar[tuple[str, ...]] = ()
    TARGET_ROLES: ClassVar[dict[str, str]] = {}
    RECURRENT_ROLES: ClassVar[tuple[str, ...]] = ()

    def _setup(self) -> None:
        """Check the models, pair the targets, build the state preprocessor, declare the stored tensors.

        Raises:
            ValueError: a missing model, a target network that is its source network, or a
                recurrent model the agent does not support (see `RecurrentStates`).
        """
        self._check_models()
        for role, model in self.models.items():
            if model is not None:
                self.register_checkpoint_module(role, model)
        self.targets = TargetNetworks(
            (self.models.get(target), self.models.get(source)) for target, source in self.TARGET_ROLES.items()
        )
        self._state_preprocessor = self.build_state_preprocessor()
        if spaces.is_box(self.action_space):
            self.action_low, self.action_high = spaces.box_bounds(self.action_space, self.device)
        is_discrete = spaces.is_discrete(self.action_space)
        recurrence = RecurrentStates(
            type(self).__name__, self.models, self.RECURRENT_ROLES, self.TARGET_ROLES, self.device
        )
        self.recurrence = recurrence if recurrence.is_recurrent else None
        self._acting_states: torch.Tensor | None = None
        stored_states = images.storage_dtype(self.observation_space)  # raw: preprocessed when sampled
        self.frames_per_row = (
            0
            if self.recurrence is not None
            else frames_per_row(self.cfg.replay_storage, self.observation_space)
        )
        """k of the `FrameReplay` layout (``replay_storage``); 0: separate states and next_states."""
        observations = (
            () if self.frames_per_row else (StoredTensor("states", self.observation_space, stored_states),)
        )
        self.schema = TensorSchema(
            *observations,
            StoredTensor("actions", self.action_space, torch.int64 if is_discrete else torch.float32),
            StoredTensor("rewards", 1),
            *((StoredTensor("next_states", self.observation_space, stored_states),) if observations else ()),
            StoredTensor("terminated", 1, torch.bool),
            *([StoredTensor("truncated", 1, torch.bool)] if self.recurrence is not None else []),
            batch_name="Transitions",
        )
        self._frame_replays: list[FrameReplay] = []
        self._learning_starts_offset = 0
        """Updates start at ``learning_starts`` + this: the timestep of a resume with an empty memory."""
        self._latest_replay: str | None = None

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
        """Set up logging, put the models in eval mode, create the replay tensors (and the states' ones)."""
        super().init(trainer_cfg)
        self.set_mode("eval")
        self._create_memory_tensors()
        if self.recurrence is not None:
            self.recurrence.reset()

    def _create_memory_tensors(self) -> None:
        """Create the replay tensors (and the recurrent states') in every memory; again: nothing changes."""
        for memory in self._memories():
            self.schema.create_in(memory)
        if self.frames_per_row and len(self._frame_replays) != len(self._memories()):
            shape, side = self.observation_space.shape, self.cfg.replay_side_capacity
            self._frame_replays = [FrameReplay(m, shape, self.frames_per_row, side) for m in self._memories()]
        if self.recurrence is not None:
            self.recurrence.create_in(self._memories())

    def set_running_mode(self, mode: str) -> None:
        """Set the running mode; recurrent states start again from zeros (a training or evaluation run)."""
        super().set_running_mode(mode)
        if self.recurrence is not None:
            self.recurrence.reset()

    def _memories(self) -> list[Any]:
        return [] if self.memory is None else [self.memory, *self.secondary_memories]

    @staticmethod
    def optimise(step: OptimisationStep, loss: torch.Tensor) -> None:
        """One step of ``step`` on ``loss``, then its scheduler's step."""
        step(loss)
        step.step_scheduler()

    # ------------------------------------------------------------------ hooks
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """The learner's actions for (N, obs) states (see the class docstring)."""
        return self.learner.act(states, timestep)

    def _update(self, timestep: int, timesteps: int) -> None:
        self.learner.update(timestep)

    def preprocess(self, states: torch.Tensor) -> torch.Tensor:
        """States as the models see them; while training this also updates the preprocessor's statistics."""
        return self._state_preprocessor(states, train=self.training)

    def policy_act(self, states: torch.Tensor, timestep: int) -> tuple[Any, Any, Any, bool]:
        """The policy's ``act`` on the preprocessed ``states``, or ``random_act`` on a random step.

        A recurrent policy gets its current states and its next ones are kept; on a random step it
        still runs, so that its states follow the history.

        Returns:
            (actions, log_prob, outputs, whether the actions are random).
        """
        policy, processed, recurrence = (
            self.models[self.ACTING_ROLE],
            self.preprocess(states),
            self.recurrence,
        )
        if recurrence is None:
            if self.is_random_step(timestep):
                return (*policy.random_act({"states": processed}, role="policy"), True)
            return (*policy.act({"states": processed}, role="policy"), False)
        self._acting_states = processed
        actions, log_prob, outputs = policy.act(
            recurrence.acting_inputs("policy", states=processed), role="policy"
        )
        recurrence.keep("policy", outputs)
        if self.is_random_step(timestep):
            return (*policy.random_act({"states": processed}, role="policy"), True)
        return actions, log_prob, outputs, False

    def record_transition(self, states, actions, rewards, next_states, terminated, truncated, *rest, **named):
        """`Agent.record_transition` (``rest``, ``named``: infos, timestep, timesteps), then states advance.

        The states of envs whose episode ended (terminated or truncated) are zeroed, in evaluation too.
        """
        super().record_transition(
            states, actions, rewards, next_states, terminated, truncated, *rest, **named
        )
        if self.recurrence is not None:
            ended = None if self.episode_end_hint is False else (terminated | truncated)
            self.recurrence.advance(ended)

    def _store_transition(self, transition: Transition, timestep: int, timesteps: int) -> None:
        """Store (s, a, r, s', terminated) in every memory (with recurrent models: truncated and the states).

        Without recurrent models ``truncated`` is not stored: a truncated step bootstraps from
        ``next_states``, which the env wrappers fill with the true final observation. With them,
        each recurrent critic is run on (s, a) first, to carry its state.
        """
        extra = {}
        if self.recurrence is not None:
            self._advance_critics(transition)
            extra = {"truncated": transition.truncated, **self.recurrence.stored()}
        if self.frames_per_row:
            ended = transition.terminated | transition.truncated
            for replay in self._frame_replays:
                replay.add(
                    transition.states,
                    transition.next_states,
                    ended,
                    actions=transition.actions,
                    rewards=transition.rewards,
                    terminated=transition.terminated,
                )
            return
        for memory in self._memories():
            memory.add_samples(
                states=transition.states,
                actions=transition.actions,
                rewards=transition.rewards,
                next_states=transition.next_states,
                terminated=transition.terminated,
                **extra,
            )

    def _advance_critics(self, transition: Transition) -> None:
        recurrence = self.recurrence
        for role in self.RECURRENT_ROLES:
            if role != self.ACTING_ROLE and recurrence.is_recurrent_role(role):
                states = self._acting_states
                if states is None or states.shape[0] != transition.states.shape[0]:
                    states = self._state_preprocessor(transition.states)
                inputs = recurrence.acting_inputs(role, states=states, taken_actions=transition.actions)
                recurrence.keep(role, self.models[role].act(inputs, role=role)[2])

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update (in train mode) when training from ``learning_starts`` on; then log and checkpoint."""
        if (
            self.training
            and self.memory is not None
            and timestep >= self.cfg.learning_starts + self._learning_starts_offset
            and self.is_update_step(timestep)
        ):
            self.set_mode("train")
            self._update(timestep, timesteps)
            self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def is_update_step(self, timestep: int) -> bool:
        """Whether to update at this timestep: every ``update_interval`` steps (DQN's key; else 1)."""
        return timestep % getattr(self.cfg, "update_interval", 1) == 0

    # ------------------------------------------------------------ checkpoints
    def _save_memories(self, path: str, tag: str | None) -> dict[str, Any] | None:
        """Write the replay memories beside the checkpoint ``path`` (unless ``checkpoint_memory`` is False).

        Returns the record kept in the checkpoint: the file (None when left out), the learning-starts offset.
        """
        if self.memory is None:
            return None
        record: dict[str, Any] = {"file": None, "learning_starts_offset": self._learning_starts_offset}
        if not self.cfg.experiment.checkpoint_memory:
            return record
        directory = os.path.dirname(os.path.abspath(path))
        target = (
            replay.save_file_path(path)
            if tag is None
            else os.path.join(directory, replay.checkpoint_file_name(tag))
        )
        self._create_memory_tensors()
        record.update(replay.save_replay(self._memories(), target, self.timestep))
        if tag is not None:
            self._latest_replay = target
        return record

    def write_checkpoint(self, timestep: int | None, timesteps: int) -> None:
        """`Agent.write_checkpoint` (the replay file first), then earlier checkpoints' replay files go."""
        self._latest_replay = None
        super().write_checkpoint(timestep, timesteps)
        if self._latest_replay is not None:
            directory, name = os.path.split(self._latest_replay)
            replay.remove_stale_replays(directory, keep=name)

    def _read_memories(
        self, path: str, meta: Mapping[str, Any], timestep: int, evaluation_only: bool
    ) -> Callable[[], None]:
        """Read and check the replay file the checkpoint names; the returned call copies it in.

        Without one (left out, a skrl checkpoint, a file since removed) the call logs a warning and
        makes updates wait ``learning_starts`` steps from ``timestep``.

        Raises:
            CheckpointError: the replay file exists but is damaged, not the checkpoint's, too large or
                of other memories (see `replay_checkpoint.read_replay`).
        """
        if evaluation_only or self.memory is None:
            return lambda: None
        record = meta.get("memory")
        if not isinstance(record, Mapping):
            return self._restart_memories(
                path, timestep, "it holds no replay memory (skrl's or an older format)"
            )
        offset = record.get("learning_starts_offset", 0)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise CheckpointError(
                f"{path!r} holds a malformed learning_starts_offset {offset!r}; expected an int >= 0. "
                "Nothing was loaded."
            )
        if record.get("file") is None:
            reason = "it was saved without its replay memory (experiment.checkpoint_memory: False)"
            return self._restart_memories(path, timestep, reason)
        replay_file = replay.replay_path(path, record)
        if not os.path.isfile(replay_file):
            reason = f"its replay memory {replay_file!r} is gone (only the latest checkpoint's is kept)"
            return self._restart_memories(path, timestep, reason)
        self._create_memory_tensors()
        states = replay.read_replay(self._memories(), replay_file, record)

        def restore() -> None:
            for memory, state in zip(self._memories(), states):
                apply_state(memory, state)
            self._learning_starts_offset = offset

        return restore

    def _restart_memories(self, path: str, timestep: int, reason: str) -> Callable[[], None]:
        """What a load without replay memory applies: a warning; updates from timestep + learning_starts."""

        def restart() -> None:
            self._learning_starts_offset = timestep
            learning_starts = self.cfg.learning_starts
            logger.warning(
                f"{path}: {reason}. The replay memory is not restored: training goes on from an empty "
                f"memory and updates wait learning_starts={learning_starts} new steps (until timestep "
                f"{timestep + learning_starts})."
            )

        return restart

    # ---------------------------------------------------------- update helpers
    def sample_batch(self) -> ReplayBatch:
        """A fresh uniform `ReplayBatch` of (B, ·) transitions, states preprocessed once.

        With recurrent models: B sequences of L transitions each (`RecurrentStates.sample`).
        """
        if self.recurrence is not None:
            return self.recurrence.sample(self.memory, self.cfg.batch_size, self._state_preprocessor)
        if self.frames_per_row:
            sampled = self._frame_replays[0].sample(self.schema.names, self.cfg.batch_size)
            batch = self.schema.batch(sampled.others)
            states, next_states = sampled.states, sampled.next_states
        else:
            batch = self.schema.sample(self.memory, self.cfg.batch_size)
            states, next_states = batch.states, batch.next_states
        return ReplayBatch(
            states=self._state_preprocessor(states),
            actions=batch.actions,
            rewards=batch.rewards,
            next_states=self._state_preprocessor(next_states),
            terminated=batch.terminated,
        )

    def update_targets(self, polyak: float | None = None) -> None:
        """Every target network moves towards its source by ``polyak`` (default: the config's)."""
        self.targets.update(self.cfg.polyak if polyak is None else polyak)


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
