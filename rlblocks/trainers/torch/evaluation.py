"""`evaluation_step`: one step of an agent in eval running mode outside a trainer, as the trainers do it.

A loop that evaluates an agent by hand (``rlblocks eval``, the learning tests' deterministic
returns) must also *record* each step: `Agent.record_transition` in eval running mode stores
nothing but ends the step, and that is where a recurrent policy's states advance (the states its
``act`` returned become the next step's inputs) and where the states of the envs whose episode
ended, terminated or truncated, are zeroed. Acting without recording would feed a recurrent policy
its initial states at every step. The trainers' evaluation goes through the same
`record_with_hint`, so a hand-written loop and ``trainer.eval()`` act alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from rlblocks.agents.torch.base import Transition
from rlblocks.trainers.torch.base import record_with_hint

StepFunction = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]]
"""``actions -> (next_states, rewards, terminated, truncated, infos)``: a wrapped env's ``step``."""


class EvaluationStep(NamedTuple):
    """What one `evaluation_step` did: the (N, ·) actions and the env's answer (rewards, flags (N, 1))."""

    actions: torch.Tensor
    next_states: torch.Tensor
    rewards: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    infos: Any


def evaluation_step(
    agent: Any, states: torch.Tensor, step: StepFunction, timestep: int = 0, timesteps: int = 0
) -> EvaluationStep:
    """Act on ``states``, step the env, record the step (no gradients); the agent is in eval running mode.

    Recording carries a recurrent policy's states to the next step and zeroes those of the envs
    whose episode ended (module docstring); a feed-forward agent only counts its episode statistics.
    After an episode end the caller acts next on the env's reset observation (the wrappers' autoreset
    contract, `rlblocks.trainers.torch.base`).

    Args:
        agent: an rlblocks agent, set to eval running mode by the caller (``set_running_mode("eval")``,
            which also zeroes the recurrent states).
        states: (N, obs) observations to act on.
        step: the env's step: ``actions -> (next_states, rewards, terminated, truncated, infos)``,
            rewards and flags (N, 1) tensors.
        timestep: the step's timestep, passed to ``act`` and ``record_transition``.
        timesteps: the evaluation's total timesteps, passed likewise.

    Returns:
        The actions and the env's answer (`EvaluationStep`).
    """
    with torch.no_grad():
        actions = agent.act(states, timestep=timestep, timesteps=timesteps)[0]
        next_states, rewards, terminated, truncated, infos = step(actions)
        transition = Transition(states, actions, rewards, next_states, terminated, truncated)
        record_with_hint(agent, None, transition._asdict(), infos, timestep, timesteps)
    return EvaluationStep(actions, next_states, rewards, terminated, truncated, infos)
