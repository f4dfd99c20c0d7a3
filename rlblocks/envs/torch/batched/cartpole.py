"""`CartPole`: gymnasium's CartPole-v1 as one batch of torch tensors.

The same physics, reward and episode ends as `gymnasium.make("CartPole-v1")` (Barto, Sutton and
Anderson 1983, Euler integration with tau = 0.02 s): a pole on a cart pushed left (action 0) or
right (action 1) with a force of 10 N; reward 1 on every step, the terminating one included;
terminated when the cart leaves (-2.4, 2.4) or the pole leans more than 12 degrees; truncated
after 500 steps (also on a step that terminates, as gymnasium's `TimeLimit` does). Initial states
are U(-0.05, 0.05) in each of (x, x_dot, theta, theta_dot).

The physics runs in float64 by default, as gymnasium's numpy code does, with gymnasium's order of
operations: from the same state and action a step agrees with gymnasium's to the last bit or so
(torch's vectorised sin/cos may differ from numpy's by one ulp). A balancing policy amplifies such
differences by ~2% a step, so two long episodes can drift apart: in the tests, 24 envs agree to
1e-6 over their first 500-step episodes, and one drifted past 1e-5 some 530 steps after its first
one-ulp difference. `dtype=torch.float32` is ~15% faster on CPU (more on GPUs with few float64
units) but differs by ~1e-6 after 50 steps, and an episode may then end a step earlier or later.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces

from rlblocks.envs.torch.batched.base import BatchedVectorEnv

GRAVITY = 9.8
CART_MASS = 1.0
POLE_MASS = 0.1
TOTAL_MASS = POLE_MASS + CART_MASS
POLE_HALF_LENGTH = 0.5
POLE_MASS_LENGTH = POLE_MASS * POLE_HALF_LENGTH
FORCE = 10.0
TAU = 0.02
"""Seconds per step."""
THETA_THRESHOLD = 12 * 2 * math.pi / 360
"""Radians beyond which the episode terminates (12 degrees, gymnasium's expression)."""
X_THRESHOLD = 2.4


class CartPole(BatchedVectorEnv):
    """`num_envs` CartPole-v1 envs; state and observation columns (x, x_dot, theta, theta_dot).

    Actions are (N,) (or (N, 1)) integers or floats: 1 pushes right, anything else left, as in
    gymnasium's `force_mag if action == 1 else -force_mag`; values are not checked (that would
    need a device sync). See `BatchedVectorEnv` for the other arguments.

    Args:
        num_envs: number of environments.
        max_episode_steps: truncation limit (gymnasium's CartPole-v1: 500).
        device: where the tensors live.
        dtype: dtype of the physics (see the module docstring).
        seed: seed of the env's generator.
    """

    state_size = 4

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = 500,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
        seed: int | None = None,
    ) -> None:
        high = np.array([X_THRESHOLD * 2, np.inf, THETA_THRESHOLD * 2, np.inf], dtype=np.float32)
        super().__init__(
            num_envs,
            spaces.Box(-high, high, dtype=np.float32),
            spaces.Discrete(2),
            max_episode_steps,
            device,
            dtype,
            seed,
        )

    def _initial_states(self, count: int) -> torch.Tensor:
        return self._uniform(count, -0.05, 0.05)

    def _dynamics(
        self, states: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, x_dot, theta, theta_dot = states.unbind(1)
        force = (actions == 1).to(self.dtype) * (2 * FORCE) - FORCE
        cos_theta, sin_theta = theta.cos(), theta.sin()
        # Same association order as gymnasium, so float64 results agree to the last bits.
        temp = (force + POLE_MASS_LENGTH * theta_dot.square() * sin_theta) / TOTAL_MASS
        theta_acc = (GRAVITY * sin_theta - cos_theta * temp) / (
            POLE_HALF_LENGTH * (4.0 / 3.0 - POLE_MASS * cos_theta.square() / TOTAL_MASS)
        )
        x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos_theta / TOTAL_MASS
        x = x + TAU * x_dot
        x_dot = x_dot + TAU * x_acc
        theta = theta + TAU * theta_dot
        theta_dot = theta_dot + TAU * theta_acc
        next_states = torch.stack((x, x_dot, theta, theta_dot), dim=1)
        terminated = (x.abs() > X_THRESHOLD) | (theta.abs() > THETA_THRESHOLD)
        rewards = torch.ones(self.num_envs, dtype=torch.float32, device=self.device)
        return next_states, rewards, terminated

    def _observe(self, states: torch.Tensor) -> torch.Tensor:
        return states.to(torch.float32)
