"""`Pendulum`: gymnasium's Pendulum-v1 as one batch of torch tensors.

The same physics and reward as `gymnasium.make("Pendulum-v1")`: a pendulum of mass 1 and length
1 under g = 10, torque clipped to [-2, 2], angular velocity clipped to [-8, 8], dt = 0.05 s
(semi-implicit: the new velocity moves the angle). The reward is
-(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2) of the state *before* the step;
the episode never terminates and is truncated after 200 steps. Initial theta ~ U(-pi, pi),
theta_dot ~ U(-1, 1). Observations are (cos theta, sin theta, theta_dot).

As in gymnasium, the torque is clipped and scaled in float32 (the action space's dtype) and the
rest runs in float64 by default, which reproduces gymnasium's observations (measured: bit for bit
over 200-step episodes of random torques) and rewards (to float32 rounding). With
`dtype=torch.float32` the swinging pendulum amplifies the rounding: trajectories leave
gymnasium's within an episode (0.1 apart after 200 steps), though the task is the same.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces

from rlblocks.envs.torch.batched.base import BatchedVectorEnv

MAX_SPEED = 8.0
MAX_TORQUE = 2.0
DT = 0.05
GRAVITY = 10.0
MASS = 1.0
LENGTH = 1.0


def angle_normalize(angle: torch.Tensor) -> torch.Tensor:
    """The angle wrapped into [-pi, pi) (floored modulo, as numpy's `%`)."""
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


class Pendulum(BatchedVectorEnv):
    """`num_envs` Pendulum-v1 envs; state columns (theta, theta_dot), actions (N, 1) torques.

    Args:
        num_envs: number of environments.
        max_episode_steps: truncation limit (gymnasium's Pendulum-v1: 200).
        device: where the tensors live.
        dtype: dtype of the physics (see the module docstring).
        seed: seed of the env's generator.
    """

    state_size = 2

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = 200,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
        seed: int | None = None,
    ) -> None:
        high = np.array([1.0, 1.0, MAX_SPEED], dtype=np.float32)
        super().__init__(
            num_envs,
            spaces.Box(-high, high, dtype=np.float32),
            spaces.Box(-MAX_TORQUE, MAX_TORQUE, shape=(1,), dtype=np.float32),
            max_episode_steps,
            device,
            dtype,
            seed,
        )
        self._initial_high = torch.tensor([math.pi, 1.0], dtype=dtype, device=self.device)

    def _initial_states(self, count: int) -> torch.Tensor:
        return self._uniform(count, -self._initial_high, self._initial_high)

    def _dynamics(
        self, states: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        theta, theta_dot = states.unbind(1)
        torque = actions.reshape(-1).to(torch.float32).clamp(-MAX_TORQUE, MAX_TORQUE)
        # gymnasium computes 0.001 * u**2 and 3 / (m l^2) * u in float32, the rest in float64.
        effort = (0.001 * torque.square()).to(self.dtype)
        angular_push = (3.0 / (MASS * LENGTH**2) * torque).to(self.dtype)
        costs = angle_normalize(theta).square() + 0.1 * theta_dot.square() + effort
        new_theta_dot = theta_dot + (3 * GRAVITY / (2 * LENGTH) * theta.sin() + angular_push) * DT
        new_theta_dot = new_theta_dot.clamp(-MAX_SPEED, MAX_SPEED)
        new_theta = theta + new_theta_dot * DT
        next_states = torch.stack((new_theta, new_theta_dot), dim=1)
        terminated = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        return next_states, (-costs).to(torch.float32), terminated

    def _observe(self, states: torch.Tensor) -> torch.Tensor:
        theta, theta_dot = states.unbind(1)
        return torch.stack((theta.cos(), theta.sin(), theta_dot), dim=1).to(torch.float32)
