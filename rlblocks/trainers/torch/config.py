"""`TrainerConfig`: the trainers' config keys, defaults and validation.

skrl 0.10's keys (timesteps, headless, disable_progressbar) plus some of later skrl versions or
of rlblocks: close_environment_at_exit, resume, stochastic_evaluation, torch_threads, progress,
and evaluation during training (eval_interval, eval_episodes, stop_at_return, patience).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from rlblocks.trainers.torch.progress import MODES as PROGRESS_MODES
from rlblocks.utils.config import Config, check_range


@dataclasses.dataclass(kw_only=True)
class TrainerConfig(Config):
    """Configuration shared by the Sequential, Parallel and Manual trainers.

    A custom trainer (a direct subclass of `Trainer`) may pass keys of its own; they are kept as
    extra keys (`Config.from_dict(..., allow_unknown=True)`) and read by `trainer.cfg["my_key"]`.
    """

    KIND: ClassVar[str] = "trainer"

    timesteps: int = 100000
    """Number of environment steps to train or evaluate (each step advances every sub-env once)."""
    headless: bool = False
    """If False, call `env.render()` after each step, provided the env has a `render_mode`."""
    disable_progressbar: bool | None = False
    """Hide the tqdm progress bar; None hides it when stdout is not a terminal (a log file, CI)."""
    close_environment_at_exit: bool = True
    """Close the env at the end of `train()`/`eval()`; set False to evaluate after training."""
    resume: bool = False
    """Start `train()` at the agents' `timestep` (restored by `agent.load`) instead of 0."""
    stochastic_evaluation: bool = False
    """Evaluate with sampled actions instead of the deterministic ones (the agent reads it in `init`)."""
    progress: str = "auto"
    """How progress is shown: "auto" (a tqdm bar on a terminal, otherwise a plain line every 30 s:
    env steps, env steps/s, mean return, losses, ETA), "bar", "lines" or "none".
    `disable_progressbar=True` shows nothing."""
    torch_threads: int | str | None = "auto"
    """torch's intra-op threads while `train()`/`eval()` run: "auto" uses 1 on CPU for models of at
    most a million parameters (unless OMP_NUM_THREADS is set), a positive int that many, None leaves
    torch's setting alone. The previous setting is restored when the run ends."""

    eval_interval: int = 0
    """Evaluate every this many timesteps (and after the last) on the trainer's ``eval_env``; 0: never.
    The best evaluation's agent is ``checkpoints/best_agent.pt`` (`rlblocks.trainers.torch.monitor`)."""
    eval_episodes: int = 10
    """Episodes per evaluation (deterministic actions unless ``stochastic_evaluation``)."""
    stop_at_return: float | None = None
    """Stop training once an evaluation's mean return reaches this; None: never."""
    patience: int = 0
    """Stop training after this many evaluations in a row without a better mean return; 0: never."""

    def __post_init__(self) -> None:
        if isinstance(self.timesteps, float) and self.timesteps.is_integer():
            self.timesteps = int(self.timesteps)  # 1e5 written in a config
        if isinstance(self.timesteps, bool) or not isinstance(self.timesteps, int):
            raise ValueError(
                f'trainer config key "timesteps" must be an int, got {self.timesteps!r}; '
                "e.g. cfg={'timesteps': 10000}."
            )
        check_range("timesteps", self.timesteps, low=0)
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type in ("bool", bool) and not isinstance(value, bool):
                raise ValueError(f'trainer config key "{field.name}" must be True or False, got {value!r}.')
        if self.progress not in PROGRESS_MODES:
            raise ValueError(
                f'trainer config key "progress" must be one of {PROGRESS_MODES}, got {self.progress!r}.'
            )
        threads = self.torch_threads
        if isinstance(threads, float) and threads.is_integer():
            self.torch_threads = threads = int(threads)
        if (
            threads is not None
            and threads != "auto"
            and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1)
        ):
            raise ValueError(
                f'trainer config key "torch_threads" must be "auto", a positive int or None, got '
                f"{threads!r}; e.g. cfg={{'torch_threads': 1}}."
            )
        for name, low in (("eval_interval", 0), ("eval_episodes", 1), ("patience", 0)):
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                setattr(self, name, value := int(value))
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(
                    f'trainer config key "{name}" must be an int >= {low}, got {value!r}; e.g. '
                    f"cfg={{'{name}': {max(low, 10)}}}."
                )
        stop = self.stop_at_return
        if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, float))):
            raise ValueError(
                f'trainer config key "stop_at_return" must be a number or None, got {stop!r}; e.g. '
                "cfg={'stop_at_return': 475.0}."
            )
        if self.disable_progressbar is not None and not isinstance(self.disable_progressbar, bool):
            raise ValueError(
                'trainer config key "disable_progressbar" must be True, False or None (hide it when '
                f"stdout is not a terminal), got {self.disable_progressbar!r}."
            )


TRAINER_DEFAULT_CONFIG = TrainerConfig.defaults()
"""The default trainer config dict."""
