"""`rlblocks eval`: the deterministic policy's return over N episodes, optionally recorded to GIFs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from rlblocks.cli import build
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError
from rlblocks.trainers.torch.evaluation import evaluation_step
from rlblocks.utils.checkpoint import CheckpointError

RENDER_MODES = ("rgb_array", "human")


@dataclass
class EvalResult:
    """Returns of the evaluated episodes."""

    checkpoint: str
    returns: list[float]
    videos: list[str]

    @property
    def mean(self) -> float:
        """Mean return."""
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        """Standard deviation of the returns."""
        return float(np.std(self.returns))


def load_agent(path: str, device: str = "cpu") -> tuple[Any, Any, str, Any]:
    """``(agent, config, checkpoint, (observation_space, action_space))`` for a run dir or checkpoint.

    The agent is in eval running mode: it acts deterministically and logs or saves nothing.

    Raises:
        CLIError: not a run directory or checkpoint, or a corrupted checkpoint.
    """
    run_dir, checkpoint = runs.locate(path)
    config = runs.load_config(run_dir)
    environment = build.make_env(config, num_envs=1)
    observation_space, action_space = environment.observation_space, environment.action_space
    environment.close()
    device_ = build.resolve_device(device)
    build.limit_cpu_threads(device_)
    agent = build.build_agent(config, observation_space, action_space, device_, None)
    try:
        agent.load(checkpoint, evaluation_only=True)
    except CheckpointError as error:
        raise CLIError(str(error)) from None
    except RuntimeError as error:  # a state dict that does not fit the rebuilt models
        raise CLIError(
            f"{checkpoint!r} does not fit the models described in {run_dir}/config.yaml: {error}"
        ) from None
    agent.init(trainer_cfg={})
    agent.set_running_mode("eval")
    return agent, config, checkpoint, (observation_space, action_space)


def evaluate(
    path: str,
    episodes: int = 10,
    render: str | None = None,
    video: str | None = None,
    seed: int | None = None,
    device: str = "cpu",
) -> EvalResult:
    """Run ``episodes`` episodes with the deterministic policy of a run or checkpoint.

    Each step is recorded (`evaluation_step`), so a recurrent policy carries its states from step
    to step and starts every episode from zero states.

    Raises:
        CLIError: a bad path, option or checkpoint.
    """
    if episodes < 1:
        raise CLIError(f"--episodes must be >= 1, got {episodes}")
    if render is not None and render not in RENDER_MODES:
        raise CLIError(f"--render must be one of {', '.join(RENDER_MODES)}, got {render!r}")
    if video is not None:
        if render not in (None, "rgb_array"):
            raise CLIError("--video records frames, which needs --render rgb_array")
        render = "rgb_array"
    agent, config, checkpoint, _ = load_agent(path, device)
    config.seed = config.seed + 1000 if seed is None else seed  # episodes unseen in training
    environment = build.make_env(config, num_envs=1, render_mode=render)
    returns: list[float] = []
    videos: list[str] = []
    frames: list[np.ndarray] = []
    try:
        states, _ = environment.reset()
        total = 0.0
        timestep = 0
        while len(returns) < episodes:
            step = evaluation_step(agent, states, environment.step, timestep, timestep + 1)
            states = step.next_states
            timestep += 1
            total += float(step.rewards.sum())
            if video is not None:
                frames.append(_frame(environment.render()))
            if bool((step.terminated | step.truncated).any()):
                returns.append(total)
                total = 0.0
                if video is not None:
                    videos.append(_write_gif(frames, os.path.join(video, f"episode_{len(returns)}.gif")))
                    frames = []
                states, _ = environment.reset()
    finally:
        environment.close()
    return EvalResult(checkpoint, returns, videos)


def _frame(rendered: Any) -> np.ndarray:
    """One RGB frame from a (vector) env's render output."""
    if isinstance(rendered, (list, tuple)):
        rendered = rendered[0]
    return np.asarray(rendered, dtype=np.uint8)


def _write_gif(frames: list[np.ndarray], path: str, fps: int = 30) -> str:
    """Write frames as an animated GIF (Pillow, which matplotlib depends on); returns the path."""
    from PIL import Image

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


def summary(result: EvalResult) -> str:
    """Mean ± std over the episodes."""
    lines = [
        f"checkpoint: {result.checkpoint}",
        f"episodes:   {len(result.returns)} (deterministic policy)",
        f"return:     {result.mean:.2f} ± {result.std:.2f} (min {min(result.returns):.2f}, "
        f"max {max(result.returns):.2f})",
    ]
    if result.videos:
        lines.append(f"videos:     {os.path.dirname(result.videos[0])} ({len(result.videos)} GIFs)")
    return "\n".join(lines)
