"""`Trainer`: the interaction loop between a wrapped env and one or more agents.

One step, for every timestep t in `range(start, timesteps)`::

    agent.pre_interaction(t, T)                       # training only
    actions = agent.act(states, t, T)[0]              # no_grad; one agent per env slice (scope)
    next_states, rewards, terminated, truncated, infos = env.step(actions)
    env.render()                                      # unless headless or the env has no render_mode
    agent.record_transition(states, actions, ..., t, T)   # no_grad
    agent.post_interaction(t, T)
    states = env.reset()[0] if (terminated | truncated).any() else next_states

The last line relies on the wrappers' autoreset contract (`rlblocks.envs.torch.Wrapper`): an ended
env's final observation is in `next_states`, its reset observation comes from `reset()`. `states` is
rebound, never copied into, so a tensor an agent kept is never changed behind its back.

The built-in trainers call every agent's `init(trainer_cfg=...)` at the end of `Trainer.__init__`
and reject unknown cfg keys; a direct subclass of `Trainer` (skrl's custom-trainer template) calls
`init` itself and may pass cfg keys of its own (see `Trainer.STRICT_CONFIG`, `Trainer.INITS_AGENTS`).

Differs from skrl 0.10: evaluation calls the agents' own `post_interaction` in eval running mode
(the agent writes no memory, runs no update and writes no checkpoint; bug #26); the config is
validated (`TrainerConfig`); `resume` starts training at the agents' `timestep`; the env is closed
only if `close_environment_at_exit`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from rlblocks import logger
from rlblocks.agents.torch.parts.non_finite import describe_env_to
from rlblocks.trainers.torch.callbacks import Callback, checked_callbacks
from rlblocks.trainers.torch.compatibility import check_agent_fits_env
from rlblocks.trainers.torch.config import TrainerConfig
from rlblocks.trainers.torch.progress import ProgressBar
from rlblocks.trainers.torch.threads import threads_for_run, torch_threads
from rlblocks.utils import distributed
from rlblocks.utils.config import ConfigKeyError

if TYPE_CHECKING:
    from rlblocks.trainers.torch.monitor import TrainingMonitor


def generate_equally_spaced_scopes(num_envs: int, num_agents: int) -> list[int]:
    """Split `num_envs` envs among `num_agents` agents: equal shares, the remainder to the last.

    Example: `generate_equally_spaced_scopes(10, 3) == [3, 3, 4]`.

    Raises:
        ValueError: more agents than envs.
    """
    if num_agents > num_envs:
        raise ValueError(
            f"The number of agents ({num_agents}) is greater than the number of environments ({num_envs}); "
            "give each agent at least one env (more envs or fewer agents)."
        )
    scopes = [num_envs // num_agents] * num_agents
    scopes[-1] += num_envs % num_agents
    return scopes


class _ConfigField:
    """A trainer attribute that reads and writes the `cfg` field of the same name.

    skrl's trainers expose `timesteps`, `headless`, ... as attributes; reading them from `cfg`
    keeps one source for each value.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, trainer: Trainer | None, owner: type | None = None) -> Any:
        return self if trainer is None else getattr(trainer.cfg, self.name)

    def __set__(self, trainer: Trainer, value: Any) -> None:
        setattr(trainer.cfg, self.name, value)


def record_with_hint(
    agent: Any,
    any_ended: bool | None,
    transition: dict[str, torch.Tensor],
    infos: Any,
    timestep: int,
    timesteps: int,
) -> None:
    """``agent.record_transition(...)`` with its ``episode_end_hint`` set to ``any_ended`` meanwhile."""
    has_hint = hasattr(agent, "episode_end_hint")
    if has_hint:
        agent.episode_end_hint = any_ended
    try:
        agent.record_transition(**transition, infos=infos, timestep=timestep, timesteps=timesteps)
    finally:
        if has_hint:
            agent.episode_end_hint = None


class Trainer:
    """Base class of the trainers: config, agents and their env scopes, and the step loop.

    Args:
        env: a wrapped environment (`rlblocks.envs.torch.wrap_env`).
        agents: one agent, or a list of agents sharing the env's sub-envs.
        agents_scope: for several agents, the number of sub-envs of each, in order (default: equal
            shares, see `generate_equally_spaced_scopes`); they must add up to `env.num_envs`.
        cfg: trainer config (`TrainerConfig` keys, merged onto the defaults); with `STRICT_CONFIG`
            an unknown key raises a `ConfigKeyError` naming the nearest valid one.
        eval_env: a separate wrapped env to evaluate one agent on during `train()`, every
            ``cfg["eval_interval"]`` timesteps (`rlblocks.trainers.torch.monitor`).
        callbacks: `Callback` instances whose hooks run during `train()` and may stop it.

    Attributes:
        cfg: the typed config, read like skrl's dict (`cfg["timesteps"]`, `cfg.get("my_key")`).
        agents: the single agent, or the list of agents.
        agents_scope: for several agents, the (start, end) sub-env slice of each.
        num_agents: the number of agents.
        timesteps, headless, disable_progressbar, close_environment_at_exit: the `cfg` fields.
    """

    STRICT_CONFIG: ClassVar[bool] = False
    """Reject cfg keys that are not `TrainerConfig` keys. False on `Trainer` itself, so that a
    custom trainer written from skrl's template can pass keys of its own (kept as extra keys); the
    built-in trainers, and so their subclasses, set it."""
    INITS_AGENTS: ClassVar[bool] = False
    """Call every agent's `init(trainer_cfg=...)` at the end of `__init__`. False on `Trainer`
    itself, because skrl's custom-trainer template calls `init` in its own constructor; the
    built-in trainers, and so their subclasses, set it."""

    timesteps = _ConfigField()
    headless = _ConfigField()
    disable_progressbar = _ConfigField()
    close_environment_at_exit = _ConfigField()

    def __init__(
        self,
        env: Any,
        agents: Any,
        agents_scope: Sequence[int] | None = None,
        cfg: Mapping[str, Any] | None = None,
        *,
        eval_env: Any = None,
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
        self.cfg: TrainerConfig = self._config(cfg)
        self.eval_env = eval_env
        self.callbacks = checked_callbacks(callbacks)
        self.monitor: TrainingMonitor | None = None
        """The last `train()`'s evaluations and stop reason (None without eval_env or callbacks)."""
        self.env = env
        self.agents = agents
        self.agents_scope: list[Any] = list(agents_scope) if agents_scope is not None else []
        self.initial_timestep = 0
        self.num_agents = 0
        self._setup_agents()
        self._agents: list[Any] = self.agents if self.num_agents > 1 else [self.agents]
        self._slices: list[slice] = [slice(start, end) for start, end in self.agents_scope]
        for agent, scope in zip(self._agents, self._slices):
            describe_env_to(agent, env, scope.start)  # named in NaN/inf errors
            check_agent_fits_env(agent, env, scope.stop - scope.start)
        self._rendering = False  # set from `headless` and the env's render_mode when a run starts
        self._check_evaluation()
        if self.INITS_AGENTS:
            for agent in self._agents:
                agent.init(trainer_cfg=self.cfg.to_dict())

    def _check_evaluation(self) -> None:
        """Raise ValueError for evaluation settings that cannot work (module `monitor`)."""
        cfg = self.cfg
        if self.eval_env is not None and self.num_agents != 1:
            raise ValueError(
                f"eval_env evaluates one agent, but this trainer has {self.num_agents}; evaluate each agent "
                "with rlblocks.evaluate(agent, env) after training instead."
            )
        if cfg.eval_interval > 0 and self.eval_env is None:
            raise ValueError(
                f"eval_interval={cfg.eval_interval} needs an evaluation env: pass eval_env=wrap_env(...) "
                "to the trainer (a separate env, not the training one), or set eval_interval to 0."
            )
        if self.eval_env is not None and self.eval_env is self.env:
            raise ValueError("eval_env must be a separate env from the training env (make a second one).")
        rules = {"stop_at_return": cfg.stop_at_return is not None, "patience": cfg.patience > 0}
        needs_evaluation = [name for name, is_set in rules.items() if is_set]
        if needs_evaluation and cfg.eval_interval == 0:
            raise ValueError(
                f"{' and '.join(needs_evaluation)} stop on evaluation returns: set eval_interval > 0 and "
                "pass eval_env to the trainer."
            )

    def _config(self, cfg: Mapping[str, Any] | None) -> TrainerConfig:
        """The typed config; unknown keys are kept as extras unless `STRICT_CONFIG`.

        Raises:
            ConfigKeyError: with `STRICT_CONFIG`, a key that is not a `TrainerConfig` key.
        """
        try:
            return TrainerConfig.from_dict(cfg, allow_unknown=not self.STRICT_CONFIG)
        except ConfigKeyError as error:
            if "STRICT_CONFIG" in vars(type(self)):
                raise
            raise ConfigKeyError(
                f"{error}. {type(self).__name__} inherits STRICT_CONFIG = True; set STRICT_CONFIG = False "
                "on it to pass keys of its own."
            ) from None

    def __str__(self) -> str:
        lines = [f"{type(self).__name__} (num_agents: {self.num_agents}, scopes: {self.agents_scope})"]
        lines += [f"  {key}: {value}" for key, value in self.cfg.items()]
        return "\n".join(lines)

    def _setup_agents(self) -> None:
        """Unwrap a one-agent list; give several agents their (start, end) env scopes.

        Raises:
            ValueError: an empty agent list, or scopes that do not match the agents or the envs.
        """
        num_envs = int(getattr(self.env, "num_envs", 1))
        if isinstance(self.agents, (list, tuple)):
            if not self.agents:
                raise ValueError(
                    "A list of agents is expected; got an empty list. Pass one agent or several."
                )
            if len(self.agents) == 1:
                self.agents = self.agents[0]
        if not isinstance(self.agents, (list, tuple)):
            self.num_agents = 1
            self.agents_scope = [(0, num_envs)]
            return
        self.agents = list(self.agents)
        self.num_agents = len(self.agents)
        scopes = self._scopes(num_envs)
        bounds, start = [], 0
        for size in scopes:
            bounds.append((start, start + size))
            start += size
        self.agents_scope = bounds

    def _scopes(self, num_envs: int) -> list[int]:
        if not self.agents_scope:
            logger.warning("The agents' scopes are empty, they will be generated as equal as possible")
            return generate_equally_spaced_scopes(num_envs, self.num_agents)
        scopes = self.agents_scope
        if len(scopes) != self.num_agents:
            raise ValueError(
                f"The number of agents ({self.num_agents}) doesn't match the number of scopes "
                f"({len(scopes)}): {scopes}; give one env count per agent, e.g. "
                f"{generate_equally_spaced_scopes(num_envs, self.num_agents)}."
            )
        if any(isinstance(size, bool) or not isinstance(size, int) or size < 1 for size in scopes):
            raise ValueError(f"Each agent's scope must be a positive int (its number of envs); got {scopes}.")
        if sum(scopes) != num_envs:
            raise ValueError(
                f"The scopes {scopes} ({sum(scopes)} envs) don't cover the number of parallelizable "
                f"environments ({num_envs}); they must add up to {num_envs}, e.g. "
                f"{generate_equally_spaced_scopes(num_envs, self.num_agents)}."
            )
        return list(scopes)

    # ------------------------------------------------------------------ public API
    def train(self) -> None:
        """Train the agents for `cfg["timesteps"]` timesteps (see the subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement train()")

    def eval(self) -> None:
        """Evaluate the agents for `cfg["timesteps"]` timesteps (see the subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement eval()")

    def single_agent_train(self) -> None:
        """Train a single agent (skrl's name; `train()` chooses the path itself)."""
        self._require_single_agent("single_agent_train")
        self._run(training=True)

    def single_agent_eval(self) -> None:
        """Evaluate a single agent (skrl's name; `eval()` chooses the path itself)."""
        self._require_single_agent("single_agent_eval")
        self._run(training=False)

    def _require_single_agent(self, name: str) -> None:
        if self.num_agents != 1:
            raise ValueError(
                f"{name}() runs one agent, but this trainer has {self.num_agents}; call train()/eval()."
            )

    # ------------------------------------------------------------------ the loop
    def _run(self, training: bool) -> None:
        """Train or evaluate from the start timestep to `timesteps`, then maybe close the env."""
        self._enter_mode("train" if training else "eval")
        start = self._start_timestep() if training else 0
        timesteps = self.timesteps
        progress = self._progress_bar(start, timesteps)
        threads = threads_for_run(self.cfg.torch_threads, self._agents)
        monitor = self._monitor(start, timesteps) if training else None
        if training:
            self._record_run(timesteps)
        with torch_threads(threads):
            try:
                states = self.env.reset()[0]
                if monitor is None:
                    for timestep in range(start, timesteps):
                        states = self._step(states, timestep, timesteps, training)
                        progress.update()
                else:
                    for timestep in range(start, timesteps):
                        states = self._step(states, timestep, timesteps, training)
                        progress.update()
                        if monitor.after_step(timestep + 1):
                            break
            finally:
                if monitor is not None:
                    monitor.end()
                progress.close()
                for agent in self._agents:
                    end_logging = getattr(agent, "end_logging", None)  # custom agents may lack it
                    if callable(end_logging):
                        end_logging()
        if self.close_environment_at_exit:
            self.env.close()

    def _monitor(self, start: int, timesteps: int) -> TrainingMonitor | None:
        """A started `TrainingMonitor` when evaluating during training or with callbacks, else None."""
        evaluating = self.eval_env is not None and self.cfg.eval_interval > 0
        if not (evaluating or self.callbacks):
            self.monitor = None
            return None
        from rlblocks.trainers.torch.monitor import TrainingMonitor  # imports evaluation, which imports base

        self.monitor = TrainingMonitor(self, self._agents, self.callbacks, self.eval_env, self.cfg)
        self.monitor.start(start, timesteps)
        return self.monitor

    def _record_run(self, timesteps: int) -> None:
        """Make one rlblocks agent's experiment directory a run directory the CLI accepts.

        It gets a config.yaml (or a not_rebuildable.txt naming the part the CLI cannot rebuild),
        see `rlblocks.cli.python_runs`; a directory holding a config.yaml is left alone.
        """
        agent = self._agents[0]
        if self.num_agents != 1 or not getattr(agent, "_writes_files", False):
            return
        if not os.path.isdir(getattr(agent, "experiment_dir", "")):
            return
        from rlblocks.cli.python_runs import record_run  # the CLI's config code, only when needed

        try:
            record_run(agent, self.env, timesteps)
        except Exception as error:  # never stop training for a description of it
            logger.warning(f"could not write the run's config.yaml for the CLI: {error}")

    @property
    def stop_reason(self) -> str | None:
        """Why the last `train()` stopped early (a stopping rule or a callback); None: it ran to the end."""
        return None if self.monitor is None else self.monitor.stop_reason

    def _step(self, states: torch.Tensor, timestep: int, timesteps: int, training: bool) -> torch.Tensor:
        """One interaction step; returns the states to act on next."""
        if training:
            self._pre_interaction(timestep, timesteps)
        actions = self._act(states, timestep, timesteps)
        next_states, rewards, terminated, truncated, infos = self.env.step(actions)
        if self._rendering:
            self.env.render()
        transition = {
            "states": states,
            "actions": actions,
            "rewards": rewards,
            "next_states": next_states,
            "terminated": terminated,
            "truncated": truncated,
        }
        any_ended = getattr(self.env, "any_episode_ended", None)
        self._record_transition(transition, infos, timestep, timesteps, any_ended)
        self._post_interaction(timestep, timesteps)
        if any_ended is None:
            if getattr(self.env, "is_reset_free", False):
                return self.env.reset()[0]
            any_ended = bool((terminated | truncated).any())  # a host sync: the wrapper cannot tell
        return self.env.reset()[0] if any_ended else next_states

    def _pre_interaction(self, timestep: int, timesteps: int) -> None:
        for agent in self._agents:
            agent.pre_interaction(timestep=timestep, timesteps=timesteps)

    def _act(self, states: torch.Tensor, timestep: int, timesteps: int) -> torch.Tensor:
        """(num_envs, A) actions: each agent acts on its slice of the states."""
        with torch.no_grad():
            if self.num_agents == 1:
                return self._agents[0].act(states, timestep=timestep, timesteps=timesteps)[0]
            return torch.vstack(
                [
                    agent.act(states[scope], timestep=timestep, timesteps=timesteps)[0]
                    for agent, scope in zip(self._agents, self._slices)
                ]
            )

    def _record_transition(
        self,
        transition: dict[str, torch.Tensor],
        infos: Any,
        timestep: int,
        timesteps: int,
        any_ended: bool | None = None,
    ) -> None:
        """Each agent records its slice of the transition (and the env's full infos).

        ``any_ended`` (the wrapper's `any_episode_ended`) reaches each rlblocks agent as its
        ``episode_end_hint`` for this call only: False lets it skip its end-of-episode work.
        """
        with torch.no_grad():
            for agent, scope in zip(self._agents, self._slices):
                record_with_hint(
                    agent, any_ended, self._sliced(transition, scope), infos, timestep, timesteps
                )

    def _sliced(self, transition: dict[str, torch.Tensor], scope: slice) -> dict[str, torch.Tensor]:
        if self.num_agents == 1:
            return transition
        return {name: tensor[scope] for name, tensor in transition.items()}

    def _post_interaction(self, timestep: int, timesteps: int) -> None:
        for agent in self._agents:
            agent.post_interaction(timestep=timestep, timesteps=timesteps)

    # ------------------------------------------------------------------ helpers
    def _enter_mode(self, mode: str) -> None:
        """Set the agents' running mode ("train" or "eval") and decide whether to render."""
        self._set_running_mode(mode)
        self._rendering = self._should_render()

    def _set_running_mode(self, mode: str) -> None:
        for agent in self._agents:
            agent.set_running_mode(mode)

    def _progress_bar(self, initial: int, total: int) -> ProgressBar:
        """Progress over the timesteps `initial..total` in env steps (`progress`, `disable_progressbar`)."""
        return ProgressBar(
            self._agents,
            initial,
            total,
            disable=True if distributed.rank() != 0 else self.disable_progressbar,  # torchrun: rank 0 only
            env_steps_per_timestep=int(getattr(self.env, "num_envs", 1)) * distributed.world_size(),
            mode=self.cfg.progress,
        )

    def _should_render(self) -> bool:
        if self.headless:
            return False
        return getattr(self.env, "render_mode", None) is not None

    def _start_timestep(self) -> int:
        """0, or with `resume` the agents' `timestep` (the number of timesteps they have done).

        Raises:
            ValueError: `resume` with agents at different timesteps.
        """
        if not self.cfg.resume:
            return self.initial_timestep
        done = sorted({int(agent.timestep) for agent in self._agents})
        if len(done) > 1:
            timesteps = [agent.timestep for agent in self._agents]
            raise ValueError(
                f"resume needs every agent at the same timestep, got {timesteps}; "
                "load checkpoints saved at the same timestep."
            )
        if done[0] >= self.timesteps:
            logger.warning(
                f"resume: the agents have done {done[0]} timesteps, not fewer than cfg['timesteps'] = "
                f"{self.timesteps}; there is nothing left to train. Raise cfg['timesteps'] to train longer."
            )
        return done[0]
