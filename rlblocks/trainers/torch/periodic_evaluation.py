"""Evaluation episodes of an agent on a separate env, without disturbing its training.

`evaluate_episodes` runs whole episodes with the agent in eval running mode (deterministic
actions unless the trainer asked for ``stochastic_evaluation``), each step through
`evaluation_step`, so a recurrent policy carries its states as in ``rlblocks eval``. While it
runs, the agent's training episode statistics and recurrent states are set aside and restored
afterwards: an evaluation in the middle of a rollout changes nothing the training sees (only the
random number generators advance).
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import numpy as np
import torch

from rlblocks.trainers.torch.evaluation import evaluation_step

RECURRENT_ATTRIBUTES = ("recurrent", "recurrence")
"""Where the on-policy and off-policy agent families keep their recurrent states."""


class EvaluationResult(NamedTuple):
    """Returns of ``len(returns)`` evaluation episodes, after ``timestep`` training timesteps."""

    mean: float
    std: float
    returns: list[float]
    lengths: list[int]
    timestep: int = 0
    env_steps: int = 0
    """Training env steps at the evaluation (`Agent.env_steps`), the x of its TensorBoard point."""


def evaluate_episodes(
    agent: Any, env: Any, episodes: int, timestep: int = 0, count_running: bool = True
) -> EvaluationResult:
    """Run ``episodes`` episodes of ``agent`` on the wrapped ``env``; the first ones to end count.

    A wrapped vector env's ``reset()`` continues the episodes under way (the autoreset contract),
    so an evaluation after another on a several-env ``env`` counts, with ``count_running=False``,
    only the episodes that start within it.

    The agent is left in the running mode it had, with its training statistics and recurrent
    states as they were.

    Args:
        agent: an rlblocks agent (or any with ``act``, ``record_transition``, ``set_running_mode``).
        env: a wrapped env (`rlblocks.envs.torch.wrap_env`), with one or more sub-envs.
        episodes: how many finished episodes to collect (>= 1).
        timestep: the training timestep, kept in the result.
        count_running: count the episodes under way at the start (True for a fresh env, or one
            sub-env whose last episode ended the previous evaluation).

    Raises:
        ValueError: ``episodes`` < 1.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an int >= 1, got {episodes!r}")
    was_training = bool(getattr(agent, "training", False))
    saved = _set_aside(agent)
    returns: list[float] = []
    lengths: list[int] = []
    try:
        agent.set_running_mode("eval")  # zeroes the (set aside) copies of the recurrent states
        states = env.reset()[0]
        totals: torch.Tensor | None = None
        steps: torch.Tensor | None = None
        counted: torch.Tensor | None = None  # envs whose episode started within this evaluation
        step_index = 0
        while len(returns) < episodes:
            step = evaluation_step(agent, states, env.step, step_index, step_index + 1)
            step_index += 1
            rewards = step.rewards.reshape(-1).to(torch.float64)
            totals = rewards.clone() if totals is None else totals + rewards
            steps = torch.ones_like(totals) if steps is None else steps + 1
            ended = (step.terminated | step.truncated).reshape(-1)
            if counted is None:
                counted = torch.full_like(ended, count_running or ended.numel() == 1)
            if bool(ended.any()):  # a host read per evaluation step: evaluation is not the hot path
                kept = ended & counted
                returns.extend(totals[kept].tolist())
                lengths.extend(int(length) for length in steps[kept].tolist())
                counted = counted | ended
                totals = torch.where(ended, 0.0, totals)
                steps = torch.where(ended, 0.0, steps)
                states = env.reset()[0]
            else:
                states = step.next_states
    finally:
        if was_training:
            agent.set_running_mode("train")  # resets the copies, not the training states
        _restore(agent, saved)
    returns, lengths = returns[:episodes], lengths[:episodes]
    env_steps = agent.env_steps(timestep) if hasattr(agent, "env_steps") else timestep
    return EvaluationResult(
        float(np.mean(returns)), float(np.std(returns)), returns, lengths, timestep, int(env_steps)
    )


def _set_aside(agent: Any) -> dict[str, Any]:
    """Replace what an evaluation would change (episode statistics, recurrent states) by copies."""
    saved: dict[str, Any] = {}
    statistics = getattr(agent, "episode_statistics", None)
    if statistics is not None:
        from rlblocks.agents.torch.episode_statistics import EpisodeStatistics

        saved["episode_statistics"] = statistics
        agent.episode_statistics = EpisodeStatistics(statistics.window)
    if hasattr(agent, "_num_envs"):
        saved["_num_envs"] = agent._num_envs
    for name in RECURRENT_ATTRIBUTES:
        states = getattr(agent, name, None)
        if states is not None:
            saved[name] = states
            setattr(agent, name, _structural_copy(states))
    return saved


def _structural_copy(value: Any) -> Any:
    """A copy of ``value``'s containers and plain objects that shares its tensors and modules.

    The recurrent-state holders rebind their tensors (never write into them), so sharing the
    tensors keeps the originals unchanged; tensors made while acting with gradients could not be
    deep-copied anyway.
    """
    if isinstance(value, (torch.Tensor, torch.nn.Module, type)):
        return value
    if isinstance(value, dict):
        return {key: _structural_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_structural_copy(item) for item in value)
    if hasattr(value, "__dict__") and type(value).__module__.startswith("rlblocks."):
        duplicate = copy.copy(value)
        duplicate.__dict__.update({key: _structural_copy(item) for key, item in vars(value).items()})
        return duplicate
    return value


def _restore(agent: Any, saved: dict[str, Any]) -> None:
    for name, value in saved.items():
        setattr(agent, name, value)
