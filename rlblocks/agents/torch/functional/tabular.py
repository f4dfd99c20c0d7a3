"""The tabular temporal-difference update of Q-learning and SARSA (Sutton & Barto 2018, eqs. 6.7-6.8).

Symbols: α (``learning_rate``), γ (``discount_factor``), Q(s, a) the table entry of the step,
Q(s', a') the entry it bootstraps from.
"""

from __future__ import annotations

from torch import Tensor

from rlblocks.agents.torch.functional.returns import td_target


def td_update(
    q_values: Tensor,
    next_q_values: Tensor,
    rewards: Tensor,
    terminated: Tensor,
    discount_factor: float,
    learning_rate: float,
) -> Tensor:
    """The new Q(s, a): Q(s, a) + α·(r + γ·(1 − terminated)·Q(s', a') − Q(s, a)).

    Only termination stops bootstrapping: for a step cut by a time limit, s' is the episode's
    true final observation and Q(s', a') stands for the rewards the limit cut off.

    Args:
        q_values: (N, 1) Q(s, a) of the step.
        next_q_values: (N, 1) Q(s', a'), with a' = argmax_a Q(s', a) for Q-learning and the
            policy's next action for SARSA.
        rewards: (N, 1).
        terminated: (N, 1) bool.
        discount_factor: γ.
        learning_rate: α in (0, 1].

    Returns:
        (N, 1) updated values.
    """
    targets = td_target(rewards, next_q_values, terminated, discount_factor)
    return q_values + learning_rate * (targets - q_values)
