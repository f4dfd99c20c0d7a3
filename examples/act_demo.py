"""Build a Gaussian policy for Pendulum-v1 and act with it for one episode."""

import gymnasium as gym
import torch
from torch import nn

from rlblocks.models.torch import GaussianMixin, Model


class Policy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=True, role="policy")
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64), nn.ELU(), nn.Linear(64, self.num_actions)
        )
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), self.log_std_parameter, {}


def main() -> None:
    env = gym.make("Pendulum-v1")
    policy = Policy(env.observation_space, env.action_space, device="cpu")
    observation, _ = env.reset(seed=0)
    total_reward, done = 0.0, False
    with torch.no_grad():
        while not done:
            actions, _, _ = policy.act({"states": torch.as_tensor(observation)[None]}, role="policy")
            observation, reward, terminated, truncated, _ = env.step(actions[0].numpy())
            total_reward += float(reward)
            done = terminated or truncated
    print(f"one episode of Pendulum-v1 with an untrained Gaussian policy: return {total_reward:.1f}")


if __name__ == "__main__":
    main()
