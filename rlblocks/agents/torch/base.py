"""`Agent`: the hooks a trainer calls, episode tracking, TensorBoard, checkpoints and resuming.

Flow per environment step: ``act`` -> env step -> ``record_transition`` -> ``post_interaction``
(which runs ``_update`` when the agent decides to learn, then writes logs and checkpoints).

Differs from skrl 0.10: the config is merged deeply and validated (unknown keys are rejected with
the nearest valid one); episode statistics are per environment (bug #1); checkpoints are written
atomically, hold everything a resume needs (models, optimizers, schedulers, preprocessors, the
timestep and the RNG states) and are loaded with ``weights_only=True``; in eval running mode the
agent writes no memory, runs no update, writes no checkpoint, and acts deterministically unless
the trainer asks for ``stochastic_evaluation``; a memory given as a tuple is unpacked like a list;
under torchrun the ranks start from rank 0's parameters and only rank 0 writes files; NaN or inf
from the environment (observations, rewards) or in a loss raises `NonFiniteError` (or, with
``cfg["non_finite"] = "warn-and-skip"``, is skipped with a warning) instead of being trained on.
"""

from __future__ import annotations

import copy
import datetime
import glob
import os
import random
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch

from rlblocks import logger
from rlblocks.agents.torch import tags
from rlblocks.agents.torch.config import AgentConfig
from rlblocks.agents.torch.episode_log import EpisodeLog
from rlblocks.agents.torch.episode_statistics import EpisodeStatistics
from rlblocks.agents.torch.metric_sinks import MetricSink, sinks_for, start_sinks
from rlblocks.agents.torch.parts import Metrics, OptimisationStep
from rlblocks.agents.torch.parts.non_finite import NonFiniteError, NonFiniteGuard, finite_rows_only
from rlblocks.agents.torch.preprocessing import build_preprocessor
from rlblocks.models.torch import Model
from rlblocks.utils import distributed, spaces
from rlblocks.utils.checkpoint import CheckpointError, atomic_save, content_digest, safe_load
from rlblocks.utils.temporary_files import remove_orphan_temporaries

__all__ = ["Agent", "NonFiniteError", "Transition", "latest_checkpoint"]

EPISODE_LOG_FILE = "episodes.csv"
"""One line per finished training episode in the experiment directory (see `EpisodeLog`)."""
CHECKPOINT_FORMAT_VERSION = 1
META_KEY = "_rlblocks"
"""Key of the checkpoint entry holding the format version, timestep and RNG states."""


class Transition(NamedTuple):
    """One step of every env: (N, ·) tensors, rewards already shaped."""

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_states: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor


class Agent:
    """Base class of all agents.

    Attributes:
        models: the models by role name.
        memory: the primary memory (None for agents that need none); ``secondary_memories`` the rest.
        cfg: the typed config (also readable by public key: ``agent.cfg["discount_factor"]``).
        timestep: timesteps completed so far (restored by `load`, so training can resume).
        training: True in "train" running mode (set by the trainer).
        metrics: the values tracked for the next TensorBoard write (`track_data`), on the device.
        episode_end_hint: set by the trainer before `record_transition`: whether some episode
            ended at this step, when the env's own flags tell it on the host; None when unknown.
        non_finite: the `NonFiniteGuard` of the environment's data and the losses (its ``source``
            names the env in messages; the trainer sets it).
        is_step_skipped: whether the last recorded step was not stored (non-finite values, in
            "warn-and-skip" mode).

    Subclasses name their typed config in ``CONFIG_CLASS`` and build their parts in `_setup`,
    which ``__init__`` calls last, so they need not repeat the constructor.
    """

    CONFIG_CLASS: ClassVar[type[AgentConfig]] = AgentConfig
    SUPPORTS_DISTRIBUTED: ClassVar[bool] = True
    """Whether the agent trains correctly on several torchrun ranks: its every optimizer step goes
    through `OptimisationStep` (gradients averaged) and every value that steers it is reduced.
    An agent with its own update path sets False, and `init` refuses to run it on several ranks."""

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: spaces.SpaceLike | None = None,
        action_space: spaces.SpaceLike | None = None,
        device: str | torch.device | None = None,
        cfg: AgentConfig | Mapping[str, Any] | None = None,
    ) -> None:
        """Store models, memory, spaces and config; move each model to its own device."""
        if not isinstance(models, Mapping):
            raise TypeError(
                f'models must be a dict of role name -> model, e.g. {{"policy": policy}}, got {models!r}'
            )
        self.models = dict(models)
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = torch.device(
            device if device is not None else ("cuda:0" if torch.cuda.is_available() else "cpu")
        )
        if isinstance(cfg, self.CONFIG_CLASS):
            self.cfg = cfg
        else:
            # a custom agent on Agent itself may bring keys of its own (skrl's agent template)
            self.cfg = self.CONFIG_CLASS.from_dict(cfg, allow_unknown=self.CONFIG_CLASS is AgentConfig)
        if isinstance(memory, (list, tuple)):
            self.memory = memory[0] if memory else None
            self.secondary_memories = list(memory[1:])
        else:
            self.memory = memory
            self.secondary_memories = []
        for model in self.models.values():
            if model is not None:
                model.to(model.device)

        self.timestep = 0
        self.training = True
        self.stochastic_evaluation = False
        self.checkpoint_modules: dict[str, Any] = {}
        self.metrics = Metrics()
        self.last_written: dict[str, float] = {}
        """The values the last `write_tracking_data` wrote (host floats; shown by the progress lines)."""
        self.episode_statistics = EpisodeStatistics()
        self.episode_end_hint: bool | None = None
        self.writer = None
        self.eval_writer = None
        self.metric_sinks: list[MetricSink] = []
        """Weights & Biases / MLflow runs receiving the written metrics (`metric_sinks`)."""
        self._plain_modules: list[torch.nn.Module] | None = None
        self._best_return = float("-inf")
        self.best_by_evaluation = False
        """Set by a trainer that evaluates during training: ``best_agent.pt`` is then chosen by the
        evaluation return (`write_best_checkpoint`), not by the training episodes' return."""
        self.non_finite = NonFiniteGuard(
            getattr(self.cfg, "non_finite", "raise"), self.device, type(self).__name__
        )
        self.is_step_skipped = False
        self._last_end_hint: bool | None = None
        self._is_distributed = distributed.is_distributed()
        self._writes_files = not self._is_distributed or distributed.rank() == 0
        """Whether this process writes logs and checkpoints: under torchrun only rank 0 does."""
        self._num_envs = 0
        """Envs this process steps (read from the rewards' shape): TensorBoard steps are env steps."""
        experiment = self.cfg.experiment
        self.experiment_dir = os.path.join(
            experiment.directory or os.path.join(os.getcwd(), "runs"),
            experiment.experiment_name
            or f"{datetime.datetime.now().strftime('%y-%m-%d_%H-%M-%S-%f')}_{type(self).__name__}",
        )
        self._setup()

    def _setup(self) -> None:
        """Build the agent's parts (models checked, optimizers, preprocessors); nothing in the base class."""

    def __str__(self) -> str:
        lines = [f"Agent: {type(self).__name__}", f"  |-- experiment: {self.experiment_dir}"]
        lines += [f"  |-- {name}: {type(model).__name__}" for name, model in self.models.items()]
        return "\n".join(lines)

    # ----------------------------------------------------------------- set-up
    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Create the experiment directory, the TensorBoard writer and the memory tensors (in subclasses).

        Under torchrun (several ranks) every rank takes rank 0's parameters and buffers, and only
        rank 0 creates the directory and writers.

        Raises:
            NotImplementedError: several ranks for an agent that does not support them.
        """
        trainer_cfg = dict(trainer_cfg or {})
        self.stochastic_evaluation = bool(trainer_cfg.get("stochastic_evaluation", False))
        if self._is_distributed:
            self._join_ranks()
        if not self._writes_files:
            return
        experiment = self.cfg.experiment
        sink_modules = sinks_for(experiment)  # optional packages: missing ones fail before any directory
        if experiment.write_interval > 0 or experiment.checkpoint_interval > 0:
            os.makedirs(self.experiment_dir, exist_ok=True)
        if experiment.checkpoint_interval > 0:
            os.makedirs(os.path.join(self.experiment_dir, "checkpoints"), exist_ok=True)
        remove_orphan_temporaries(self.experiment_dir, os.path.join(self.experiment_dir, "checkpoints"))
        if experiment.write_interval > 0 and self.writer is None:
            from torch.utils.tensorboard import SummaryWriter  # slow import: only when logging

            self.writer = SummaryWriter(log_dir=self.experiment_dir)
        if sink_modules and not self.metric_sinks:
            name, parameters = os.path.basename(self.experiment_dir), {**self.cfg.to_dict(), **trainer_cfg}
            self.metric_sinks = start_sinks(sink_modules, name, self.experiment_dir, parameters, experiment)
        if experiment.write_interval > 0 and self.episode_statistics.log is None:
            self.episode_statistics.log = EpisodeLog(os.path.join(self.experiment_dir, EPISODE_LOG_FILE))

    def end_logging(self) -> None:
        """Close the TensorBoard writers (the trainers call it when a run ends).

        Their files are complete then; a later write opens a new event file in the same directory.
        """
        for writer in (self.writer, self.eval_writer):
            if writer is not None:
                writer.close()

    def _join_ranks(self) -> None:
        """Start from rank 0's parameters and buffers (models, preprocessors, coefficients)."""
        if not self.SUPPORTS_DISTRIBUTED:
            raise NotImplementedError(
                f"{type(self).__name__} does not support training on several processes (WORLD_SIZE="
                f"{distributed.world_size()}): its update is not averaged over ranks. Run it in one "
                "process (without torchrun), or use an agent that supports it, e.g. PPO or SAC."
            )
        modules = [*self.models.values(), *self.checkpoint_modules.values()]
        distributed.broadcast_modules(module for module in modules if isinstance(module, torch.nn.Module))

    def set_mode(self, mode: str) -> None:
        """Put every model in "train" or "eval" mode (torch's module mode); agents call it twice per update.

        ``nn.Module.train`` walks each model's module tree; when no model customises ``set_mode``
        or ``train``, the mode flag of every sub-module is set directly from a list made once,
        which costs a tenth as much (a DQN update is about a millisecond).
        """
        if self._plain_modules is None:
            self._plain_modules = _modules_with_default_train(self.models.values())
        if not self._plain_modules or mode not in ("train", "eval"):  # the models' own checks raise
            for model in self.models.values():
                if model is not None:
                    model.set_mode(mode)
            return
        is_training = mode == "train"
        for module in self._plain_modules:
            # what nn.Module.train sets, without its per-module __setattr__ checks
            object.__setattr__(module, "training", is_training)

    def set_running_mode(self, mode: str) -> None:
        """Set the running mode: "train" while training, "eval" while evaluating (the trainer sets it)."""
        if mode not in ("train", "eval"):
            raise ValueError(f"running mode must be 'train' or 'eval', got {mode!r}")
        self.training = mode == "train"
        self._last_end_hint = None  # the next states may come from another env: watch them all

    # ------------------------------------------------------------------ hooks
    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        """Called before `act` at every training step; nothing to do by default."""

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """Actions for (num_envs, num_observations) states: ``(actions, log_prob or None, outputs)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement act()")

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
        """Track episode statistics from (num_envs, 1) rewards and flags; when training, `_store_transition`.

        The stored rewards are shaped by ``cfg["rewards_shaper"]`` when the config has one. Then,
        training or not, `_end_step` gets the episode-end flags.

        While training, the states, next states and rewards are checked for NaN and inf on the
        device (`NonFiniteGuard`; on CPU the check is exact at every step, on CUDA it is read
        without waiting, a step or two late).

        Raises:
            NonFiniteError: a non-finite observation or reward, or loss (in "raise" mode).
        """
        self._num_envs = rewards.shape[0]
        logged = self.training and self.episode_statistics.log is not None
        self.episode_statistics.record(
            rewards,
            terminated,
            truncated,
            self.episode_end_hint,
            self.env_steps(timestep + 1) if logged else None,
        )
        if self.training:
            # without a reset since the last step (its hint False), the states are its next states
            self.non_finite.watch(
                timestep, states, next_states, rewards, states_seen=self._last_end_hint is False
            )
            self._last_end_hint = self.episode_end_hint
            # "warn-and-skip" must know before storing: it waits for the device (a read per step on CUDA)
            self.is_step_skipped = self.non_finite.check(wait=self.non_finite.is_skipping)
            rewards_shaper = getattr(self.cfg, "rewards_shaper", None)
            if rewards_shaper is not None:
                rewards = rewards_shaper(rewards, timestep, timesteps)
            if not self.is_step_skipped:
                self._store_transition(
                    Transition(states, actions, rewards, next_states, terminated, truncated),
                    timestep,
                    timesteps,
                )
        self._end_step(terminated, truncated)

    def _store_transition(self, transition: Transition, timestep: int, timesteps: int) -> None:
        """Keep a training step's transition (in the memories, if any); nothing in the base class."""

    def _end_step(self, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """After each recorded step (training or evaluating), e.g. reset recurrent states; nothing here."""

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Count the step and write logs and checkpoints at their intervals (in eval: logs only).

        While evaluating, the episode statistics go to a separate TensorBoard run, ``eval/`` in
        the experiment directory, at the evaluation's own step count.
        """
        experiment = self.cfg.experiment
        is_write_step = experiment.write_interval > 0 and (timestep + 1) % experiment.write_interval == 0
        if not self.training:
            if is_write_step:
                self._write_evaluation(timestep + 1)
            return
        self.timestep = timestep + 1
        if is_write_step:
            self.write_tracking_data(self.timestep, timesteps)
        if experiment.checkpoint_interval > 0 and self.timestep % experiment.checkpoint_interval == 0:
            self.write_checkpoint(self.timestep, timesteps)

    def _update(self, timestep: int, timesteps: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update()")

    # --------------------------------------------------------------- tracking
    @property
    def recent_mean_return(self) -> float | None:
        """Mean return of the last ≤100 finished episodes (None before the first ends)."""
        return self.episode_statistics.recent_mean_return

    @property
    def tracking_data(self) -> dict[str, list[Any]]:
        """The values tracked since the last write, by tag (numbers or 0-d tensors)."""
        return self.metrics.values

    def track_data(self, tag: str, value: float | torch.Tensor) -> None:
        """Record a value (a number or a 0-d tensor, kept on its device) for the next write.

        Values are aggregated per tag at the write: min or max for tags ending so, else the mean.
        """
        self.metrics.add(tag, value)

    def track_statistics(self, tag: str, values: torch.Tensor) -> None:
        """Track the max, min and mean of ``values`` under ``tag (max)``, ``tag (min)``, ``tag (mean)``."""
        self.metrics.add_statistics(tag, values)

    @property
    def is_logging(self) -> bool:
        """Whether tracked data is written (``write_interval`` > 0); skip tracking work if not."""
        return self.cfg.experiment.write_interval > 0

    def write_tracking_data(self, timestep: int, timesteps: int) -> None:
        """Write the aggregated tracking data and episode statistics to TensorBoard, then clear them."""
        self._track_episodes()
        if self._is_distributed:  # every rank steps as many envs (torchrun runs one script per rank)
            self.track_data(tags.GLOBAL_ENV_STEPS, self.env_steps(timestep))
        values = self.metrics.pop()
        self.last_written = values
        if self.episode_statistics.log is not None:
            self.episode_statistics.log.write(self.env_steps(timestep))
        for sink in self.metric_sinks:
            sink.log(values, self.env_steps(timestep))
        if self.writer is not None:
            for tag, value in values.items():
                self.writer.add_scalar(tag, value, self.env_steps(timestep))
            self.writer.flush()

    def env_steps(self, timestep: int) -> int:
        """Environment steps after ``timestep`` trainer steps, summed over envs and torchrun ranks.

        TensorBoard's x-axis (and so `rlblocks plot`'s and curve.png's) is in env steps, so runs
        with 1 and 8 envs line up; ``timestep`` keeps skrl's trainer-step meaning.
        """
        return timestep * max(self._num_envs, 1) * distributed.world_size()

    def _track_episodes(self) -> None:
        """Add the episodes finished since the last write to the tracked data."""
        for tag, value in self._episode_scalars().items():
            self.track_data(tag, value)

    def _write_evaluation(self, step: int) -> None:
        """Write the evaluation's episode statistics to the ``eval/`` run (tracked training data is kept)."""
        if not self._writes_files:
            self.episode_statistics.pop_summary()
            return
        if self.eval_writer is None:
            from torch.utils.tensorboard import SummaryWriter  # slow import: only when logging

            self.eval_writer = SummaryWriter(log_dir=os.path.join(self.experiment_dir, "eval"))
        scalars = self._episode_scalars()
        for tag, value in scalars.items():
            self.eval_writer.add_scalar(tag, value, self.env_steps(step))
        self.eval_writer.flush()
        for sink in self.metric_sinks:
            sink.log({f"eval/{tag}": value for tag, value in scalars.items()}, self.env_steps(step))

    def _episode_scalars(self) -> dict[str, float]:
        """{tag: value} of the episodes finished since the last call: returns, lengths, mean reward."""
        summary = self.episode_statistics.pop_summary()
        scalars = {}
        if summary["count"]:
            for tag, key in ((tags.TOTAL_REWARD, "return"), (tags.EPISODE_LENGTH, "length")):
                for kind in ("max", "min", "mean"):
                    scalars[f"{tag} ({kind})"] = summary[f"{kind}_{key}"]
        if summary["mean_reward"] is not None:
            scalars[f"{tags.INSTANTANEOUS_REWARD} (mean)"] = summary["mean_reward"]
        return scalars

    # ------------------------------------------------------------------ parts
    def build_preprocessor(
        self, entry: str, preprocessor_class: Any, kwargs: Mapping[str, Any], size: Any
    ) -> Any:
        """The configured preprocessor, registered for checkpoints as ``entry`` (identity if None).

        ``size`` and ``device`` default to the given size and the agent's device.
        """
        preprocessor = build_preprocessor(preprocessor_class, kwargs, size, self.device)
        if preprocessor_class is not None:
            self.register_checkpoint_module(entry, preprocessor)
        return preprocessor

    def build_state_preprocessor(self) -> Any:
        """The configured ``state_preprocessor`` of observations (checkpoint entry "state_preprocessor").

        In "warn-and-skip" mode it learns from the finite rows only and gives the policy 0 for a
        non-finite value (`finite_rows_only`).
        """
        cfg = self.cfg
        preprocessor = self.build_preprocessor(
            "state_preprocessor",
            cfg.state_preprocessor,
            cfg.state_preprocessor_kwargs,
            self.observation_space,
        )
        if self.non_finite.is_skipping:
            return finite_rows_only(preprocessor)
        return preprocessor

    def build_optimisation(
        self,
        optimizer_name: str,
        parameters: Iterable[torch.nn.Parameter],
        learning_rate: float,
        grad_norm_clip: float = 0.0,
        is_scheduled: bool = True,
    ) -> OptimisationStep:
        """An Adam `OptimisationStep` "<x>optimizer", with the configured "<x>scheduler" if scheduled.

        Both are registered for checkpoints under those names ("optimizer" -> "scheduler",
        "critic_optimizer" -> "critic_scheduler"); the scheduler comes from the config's
        ``learning_rate_scheduler`` (and its kwargs), if the config has that key.
        """
        scheduler_class = getattr(self.cfg, "learning_rate_scheduler", None) if is_scheduled else None
        step = OptimisationStep(
            parameters,
            learning_rate,
            grad_norm_clip,
            scheduler_class,
            getattr(self.cfg, "learning_rate_scheduler_kwargs", None),
            guard=self.non_finite,
            name=optimizer_name,
        )
        step.register(self, optimizer_name, optimizer_name.replace("optimizer", "scheduler"))
        return step

    def is_random_step(self, timestep: int) -> bool:
        """Whether to act uniformly at random: the first ``random_timesteps`` steps of training."""
        return self.training and timestep < getattr(self.cfg, "random_timesteps", 0)

    # ------------------------------------------------------------ checkpoints
    def register_checkpoint_module(self, name: str, module: Any) -> None:
        """Save and restore ``module`` (anything with state_dict/load_state_dict) under ``name``."""
        self.checkpoint_modules[name] = module

    def checkpoint(self, memory: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Everything a resume needs: each module's state dict, the timestep and the RNG states.

        ``memory``: the record of the memories saved beside it (see `_save_memories`), kept in the metadata.
        """
        content = {
            name: module.state_dict() if hasattr(module, "state_dict") else module
            for name, module in self.checkpoint_modules.items()
        }
        content[META_KEY] = {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "agent": type(self).__name__,
            "timestep": self.timestep,
            "rng_states": _rng_states(),
            "recent_returns": self.episode_statistics.recent_returns,
            "best_return": self._best_return,
        }
        if memory is not None:
            content[META_KEY]["memory"] = dict(memory)
        content[META_KEY]["digest"] = content_digest(content)
        return content

    def write_checkpoint(self, timestep: int | None, timesteps: int) -> None:
        """Write ``checkpoints/agent_<timestep>.pt`` (or one file per module), and maybe ``best_agent.pt``.

        ``best_agent.pt`` is rewritten when the recent mean return is the best seen at a checkpoint.
        Under torchrun only rank 0 writes (the ranks hold the same parameters).

        Raises:
            NonFiniteError: a non-finite value was seen since the last check (nothing is written).
        """
        if self.training:
            self.non_finite.check(wait=True)  # never a checkpoint of an agent that learnt from NaN
        if not self._writes_files:
            return
        tag = (
            str(timestep)
            if timestep is not None
            else datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f")
        )
        directory = os.path.join(self.experiment_dir, "checkpoints")
        mean_return = self.recent_mean_return
        is_best = not self.best_by_evaluation and mean_return is not None and mean_return > self._best_return
        if is_best:
            self._best_return = mean_return  # before `checkpoint()`, so a resume knows the best so far
        content = self.checkpoint(self._save_memories(os.path.join(directory, f"agent_{tag}.pt"), tag))
        if self.cfg.experiment.store_separately:
            for name, state in content.items():
                atomic_save(state, os.path.join(directory, f"{name.lstrip('_')}_{tag}.pt"))
        else:
            atomic_save(content, os.path.join(directory, f"agent_{tag}.pt"))
        if is_best:
            atomic_save(content, os.path.join(directory, "best_agent.pt"))

    def write_best_checkpoint(self, score: float) -> bool:
        """Write ``checkpoints/best_agent.pt`` when ``score`` (an evaluation's mean return) beats the best.

        Returns whether it was written (under torchrun only rank 0 writes; the others return False).
        The file holds no replay memory: it is for evaluation and export; a resume starts from the
        latest ``agent_<timestep>.pt``.
        """
        if not score > self._best_return:
            return False
        self._best_return = float(score)  # before `checkpoint()`, so a resume knows the best so far
        if not self._writes_files:
            return False
        directory = os.path.join(self.experiment_dir, "checkpoints")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "best_agent.pt")
        atomic_save(self.checkpoint(), path)  # for eval and export: no replay memory beside it
        return True

    def save(self, path: str) -> None:
        """Write the whole agent (see `checkpoint`) to ``path``, atomically."""
        atomic_save(self.checkpoint(self._save_memories(path, None)), path)

    def _save_memories(self, path: str, tag: str | None) -> dict[str, Any] | None:
        """Save what a resume needs of the memories beside the checkpoint ``path``, before it is written.

        ``tag``: the checkpoint's timestep tag (`write_checkpoint`), None for `save`. Returns the
        record the checkpoint's metadata keeps under "memory"; nothing is saved here (None).
        """
        return None

    def _read_memories(
        self, path: str, meta: Mapping[str, Any], timestep: int, evaluation_only: bool
    ) -> Callable[[], None]:
        """Read and check the memories the checkpoint ``path`` names; nothing is applied yet.

        Returns what applies them, called once the rest of the checkpoint is loaded (here: nothing).
        """
        return lambda: None

    def load(self, path: str, *, evaluation_only: bool = False) -> None:
        """Restore an agent checkpoint: modules, timestep and RNG states; models end in eval mode.

        Under torchrun every rank loads the same file (rank 0's checkpoint, on any number of ranks)
        and so holds the same parameters; only rank 0 restores the RNG states.

        skrl checkpoints (module name -> state dict, no rlblocks metadata) load too, without timestep.

        Args:
            path: the checkpoint file.
            evaluation_only: an agent built only to act (e.g. without a memory, so without optimizers)
                skips the checkpoint's entries it has no instance for without a warning.

        Raises:
            CheckpointError: missing, corrupted or untrusted file, or not an agent checkpoint.
        """
        content = safe_load(path, map_location=self.device)
        if not isinstance(content, Mapping) or not any(name in content for name in self.checkpoint_modules):
            found = sorted(content) if isinstance(content, Mapping) else type(content).__name__
            raise CheckpointError(
                f"{path!r} is not a checkpoint of this agent: expected entries "
                f"{sorted(self.checkpoint_modules)}, found {found}. For a model state dict use model.load(); "
                "for SB3/rl_games files use migrate()."
            )
        meta = content.get(META_KEY, {})
        _check_digest(path, content)
        timestep = _checked_timestep(path, meta)
        recent_returns = _checked_returns(path, meta)
        best_return = _checked_float(path, meta, "best_return", float("-inf"))
        restore_memories = self._read_memories(path, meta, timestep, evaluation_only)
        snapshots = {
            name: copy.deepcopy(module.state_dict())
            for name, module in self.checkpoint_modules.items()
            if hasattr(module, "state_dict")
        }
        rng_states = _rng_states()
        entry = META_KEY
        try:
            for entry, state in content.items():
                if entry == META_KEY:
                    continue
                module = self.checkpoint_modules.get(entry)
                if module is None:
                    if not evaluation_only:
                        logger.warning(
                            f"Cannot load the {entry} module. The agent doesn't have such an instance"
                        )
                    continue
                module.load_state_dict(state)
                if isinstance(module, torch.optim.Optimizer):
                    _check_optimizer_state(module)
            entry = "rng_states"
            # under torchrun only rank 0 takes the saved (rank 0's) random state: the other ranks keep
            # their own (seeded with seed + rank), so their envs and samples stay different
            if "rng_states" in meta and self._writes_files:
                _set_rng_states(meta["rng_states"])
        except Exception as error:
            # put every module back as it was: a failed load leaves the agent unchanged
            for name, snapshot in snapshots.items():
                self.checkpoint_modules[name].load_state_dict(snapshot)
            _set_rng_states(rng_states)
            raise CheckpointError(
                f"{path!r} does not fit this agent's {entry!r}: {' '.join(str(error).split())}. Nothing "
                "was loaded; is it a "
                f"checkpoint of the same agent class with the same models ({type(self).__name__})?"
            ) from error
        missing = sorted(set(self.checkpoint_modules) - set(content))
        if missing:
            logger.warning(f"{path} holds no state for {missing}; they keep their current values")
        self.timestep = timestep
        self.episode_statistics.restore_recent_returns(recent_returns, replace=True)
        # a resumed run keeps the best score of the run it continues: best_agent.pt is not overwritten
        # by a worse agent
        self._best_return = best_return
        restore_memories()
        self.set_mode("eval")

    def migrate(
        self,
        path: str,
        name_map: Mapping[str, Mapping[str, str]] = {},
        auto_mapping: bool = True,
        verbose: bool = False,
    ) -> bool:
        """Load an rl_games / stable-baselines3 / plain checkpoint into every model, and its statistics.

        Observation and value normalisation statistics in the file go into the agent's
        ``state_preprocessor`` / ``value_preprocessor`` (configure RunningStandardScaler for them), so
        the migrated agent acts exactly like the source; without such a preprocessor a warning says so.

        Args:
            path: the source checkpoint.
            name_map: per checkpoint-module name (e.g. "policy"), a map current name -> source name.
            auto_mapping: match the remaining parameters automatically (see `Model.migrate`).
            verbose: log the tables and every match.

        Returns:
            True when every model received all its parameters.
        """
        from rlblocks.utils.migration import load_normalization  # large module: load on use

        normalization = load_normalization(path=path)
        for statistics, entry in (
            (normalization.observations, "state_preprocessor"),
            (normalization.values, "value_preprocessor"),
        ):
            if statistics is None:
                continue
            scaler = self.checkpoint_modules.get(entry)
            if scaler is None:
                logger.warning(
                    f"{path} normalises with {statistics.origin} statistics but the agent has no {entry}; "
                    f'set cfg["{entry}"] = RunningStandardScaler to act like the source'
                )
            else:
                statistics.load_into(scaler)
        status = True
        migrated = set()
        names_of = {}
        for name, module in self.checkpoint_modules.items():
            names_of.setdefault(id(module), []).append(name)
        for name, module in self.checkpoint_modules.items():
            if hasattr(module, "migrate") and id(module) not in migrated:
                migrated.add(id(module))
                # a shared model (several roles) is left to work out its roles from its mixins
                role = name if len(names_of[id(module)]) == 1 else None
                status &= _migrate_as(module, role, path, name_map.get(name, {}), auto_mapping, verbose)
        self.set_mode("eval")
        return bool(status)

    # ---------------------------------------------------------- evaluation
    def _deterministic_actions(self, actions: torch.Tensor, outputs: Mapping[str, Any]) -> torch.Tensor:
        """The policy's deterministic choice: the (clipped) mean of a Gaussian, a categorical's argmax."""
        if "mean_actions" in outputs:
            mean = outputs["mean_actions"]
            if spaces.is_box(self.action_space):
                low, high = spaces.box_bounds(self.action_space, mean.device)
                return torch.clamp(mean, low, high)
            return mean
        if "net_output" in outputs and spaces.is_discrete(self.action_space):
            return torch.argmax(outputs["net_output"], dim=-1, keepdim=True)
        return actions


def _modules_with_default_train(models: Iterable[Any]) -> list[torch.nn.Module]:
    """Every sub-module of ``models``, or [] if a model overrides ``set_mode`` or a module ``train``."""
    modules = []
    for model in models:
        if model is None:
            continue
        if not isinstance(model, Model) or type(model).set_mode is not Model.set_mode:
            return []
        modules.extend(model.modules())
    if any(type(module).train is not torch.nn.Module.train or "train" in vars(module) for module in modules):
        return []
    return modules


def _migrate_as(
    model: Any, role: str | None, path: str, name_map: Mapping[str, str], auto_mapping: bool, verbose: bool
) -> bool:
    """``model.migrate(...)`` with the agent's role name ("target_critic_2", ...) as the migration hint.

    A model's own ``migration_role`` wins; otherwise the role is set for the call only, so that a
    target network gets the source's target weights rather than a copy of the online ones.
    """
    has_own_role = role is None or getattr(model, "migration_role", None) is not None
    if not has_own_role:
        model.migration_role = role
    try:
        return model.migrate(path=path, name_map=name_map, auto_mapping=auto_mapping, verbose=verbose)
    finally:
        if not has_own_role:
            del model.migration_role


def latest_checkpoint(directory: str) -> str:
    """The ``agent_<timestep>.pt`` with the largest timestep in ``directory`` (a run dir or its checkpoints/).

    Raises:
        CheckpointError: no agent checkpoint there.
    """
    folder = (
        os.path.join(directory, "checkpoints")
        if os.path.isdir(os.path.join(directory, "checkpoints"))
        else directory
    )
    candidates = []
    for path in glob.glob(os.path.join(folder, "agent_*.pt")):
        match = re.fullmatch(r"agent_(\d+)\.pt", os.path.basename(path))
        if match:
            candidates.append((int(match.group(1)), path))
    if not candidates:
        raise CheckpointError(f"no agent_<timestep>.pt checkpoint in {folder!r}; is it a run directory?")
    return max(candidates)[1]


def _check_digest(path: str, content: Mapping[str, Any]) -> None:
    """Raise CheckpointError when the checkpoint's tensors do not match the digest written with them."""
    meta = content.get(META_KEY)
    if not isinstance(meta, Mapping) or "digest" not in meta:
        return  # skrl's checkpoints and rlblocks' before digests
    stored = meta["digest"]
    unsigned = {**content, META_KEY: {key: value for key, value in meta.items() if key != "digest"}}
    if content_digest(unsigned) != stored:
        raise CheckpointError(
            f"{path!r} is damaged: its content does not match the digest written with it (a flipped or "
            "truncated byte); nothing was loaded. Use another checkpoint of the run (checkpoints/)."
        )


def _checked_timestep(path: str, meta: Mapping[str, Any]) -> int:
    """The checkpoint's timestep, a non-negative int (0 when absent, as in skrl's checkpoints)."""
    timestep = meta.get("timestep", 0)
    if isinstance(timestep, bool) or not isinstance(timestep, int) or timestep < 0:
        raise CheckpointError(
            f"{path!r} holds a malformed timestep {timestep!r}; expected an int >= 0. Nothing was loaded."
        )
    return timestep


def _checked_float(path: str, meta: Mapping[str, Any], key: str, default: float) -> float:
    value = meta.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckpointError(
            f"{path!r} holds a malformed {key} {value!r}; expected a number. Nothing was loaded."
        )
    return float(value)


def _checked_returns(path: str, meta: Mapping[str, Any]) -> list[float]:
    returns = meta.get("recent_returns", [])
    if not isinstance(returns, (list, tuple)) or not all(
        isinstance(value, (int, float)) and not isinstance(value, bool) for value in returns
    ):
        raise CheckpointError(
            f"{path!r} holds malformed recent returns (expected a list of numbers). Nothing was loaded."
        )
    return [float(value) for value in returns]


def _check_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Raise ValueError when a loaded per-parameter state tensor does not have its parameter's shape.

    ``Optimizer.load_state_dict`` checks the number of parameters only, so the moments of another
    network of the same depth would load and fail (or silently broadcast) at the next step.
    """
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            for key, value in optimizer.state.get(parameter, {}).items():
                if torch.is_tensor(value) and value.dim() > 0 and value.shape != parameter.shape:
                    raise ValueError(
                        f'optimizer state "{key}" of shape {tuple(value.shape)} for a parameter of shape '
                        f"{tuple(parameter.shape)}"
                    )


def _rng_states() -> dict[str, Any]:
    numpy_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
            "position": int(numpy_state[2]),
            "has_gauss": int(numpy_state[3]),
            "cached_gaussian": float(numpy_state[4]),
        },
        "python": random.getstate(),
    }


def _set_rng_states(states: Mapping[str, Any]) -> None:
    torch.set_rng_state(states["torch"].cpu())
    if torch.cuda.is_available() and states.get("torch_cuda"):
        torch.cuda.set_rng_state_all([state.cpu() for state in states["torch_cuda"]])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].cpu().numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
