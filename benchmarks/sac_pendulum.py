"""SAC training speed and final return: rlblocks against stable-baselines3, same settings, same run.

Settings (both libraries): Pendulum-v1, one env, policy and twin critics 2x256 ReLU MLPs (the
policy's log-std a second head of its trunk, as SB3's), tanh-squashed Gaussian actions, batch 256,
Adam lr 3e-4 for actor, critics and entropy coefficient, γ 0.99, τ 0.005, learned entropy
coefficient starting at 1 with target entropy −dim(A), 5,000 uniformly random warm-up steps
before the first update, then one gradient step per env step, 20,000 env steps, one torch thread.
Seeds run interleaved (rlblocks seed 0, SB3 seed 0, rlblocks seed 1, ...) so machine load hits both alike.

Reported per run: env steps/s (wall clock of the whole `learn`/`train` call, warm-up included)
and the final return: the mean return of the deterministic policy over 10 fresh episodes
(evaluation seeds 1000..1009, the same for both). The summary gives medians and the ratio
rlblocks / SB3.

Run: ``.venv/bin/python benchmarks/sac_pendulum.py [--seeds 3] [--steps 20000] [--output PATH]``
(needs stable-baselines3: ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import numpy as np
import torch
from comparison import compare, evaluate
from torch import nn

ENV_ID = "Pendulum-v1"
HIDDEN = 256
BATCH_SIZE = 256
LEARNING_RATE = 3e-4
WARMUP_STEPS = 5_000
EVALUATION_EPISODES = 10


def run_rlblocks(seed: int, env_steps: int) -> dict[str, float]:
    from rlblocks.agents.torch.sac import SAC
    from rlblocks.envs.torch import wrap_env
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.models.torch import DeterministicMixin, GaussianMixin, Model
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import set_seed

    class Policy(GaussianMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            GaussianMixin.__init__(self, role="policy")
            self.trunk = nn.Sequential(
                nn.Linear(self.num_observations, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU()
            )
            self.mean = nn.Linear(HIDDEN, self.num_actions)
            self.log_std = nn.Linear(HIDDEN, self.num_actions)

        def compute(self, inputs, role=""):
            features = self.trunk(inputs["states"])
            return self.mean(features), self.log_std(features), {}

    class Critic(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self, role="critic")
            self.net = nn.Sequential(
                nn.Linear(self.num_observations + self.num_actions, HIDDEN),
                nn.ReLU(),
                nn.Linear(HIDDEN, HIDDEN),
                nn.ReLU(),
                nn.Linear(HIDDEN, 1),
            )

        def compute(self, inputs, role=""):
            return self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=1)), {}

    set_seed(seed)
    vector_env = gym.make_vec(ENV_ID, num_envs=1, vectorization_mode="sync")
    vector_env.reset(seed=seed)
    env = wrap_env(vector_env, verbose=False)
    spaces = (env.observation_space, env.action_space)
    models = {"policy": Policy(*spaces)}
    models.update(
        {role: Critic(*spaces) for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")}
    )
    cfg = {
        "batch_size": BATCH_SIZE,
        "discount_factor": 0.99,
        "polyak": 0.005,
        "actor_learning_rate": LEARNING_RATE,
        "critic_learning_rate": LEARNING_RATE,
        "entropy_learning_rate": LEARNING_RATE,
        "initial_entropy_value": 1.0,
        "learn_entropy": True,
        "squash_actions": True,
        "random_timesteps": WARMUP_STEPS,
        "learning_starts": WARMUP_STEPS,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = SAC(models, RandomMemory(env_steps, 1), *spaces, "cpu", cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": env_steps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    agent.set_running_mode("eval")

    def policy(observation: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            states = torch.as_tensor(observation, dtype=torch.float32).view(1, -1)
            return agent.act(states, 0, 0)[0][0].numpy()

    return {
        "steps_per_second": env_steps / elapsed,
        "final_return": evaluate(ENV_ID, policy, EVALUATION_EPISODES),
    }


def run_sb3(seed: int, env_steps: int) -> dict[str, float]:
    from stable_baselines3 import SAC

    env = gym.make(ENV_ID)
    model = SAC(
        "MlpPolicy",
        env,
        learning_rate=LEARNING_RATE,
        buffer_size=env_steps,
        learning_starts=WARMUP_STEPS,
        batch_size=BATCH_SIZE,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto",
        policy_kwargs={"net_arch": [HIDDEN, HIDDEN], "activation_fn": nn.ReLU},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - start

    def policy(observation: np.ndarray) -> np.ndarray:
        return model.predict(observation, deterministic=True)[0]

    return {
        "steps_per_second": model.num_timesteps / elapsed,
        "final_return": evaluate(ENV_ID, policy, EVALUATION_EPISODES),
    }


def run_plain_torch(seed: int, env_steps: int) -> dict[str, float]:
    """The same algorithm as a single loop of plain torch: the floor a library's overhead is measured from."""
    import torch.nn.functional as F

    def mlp(inputs: int, outputs: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(inputs, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, outputs),
        )

    torch.manual_seed(seed)
    env = gym.make(ENV_ID)
    env.action_space.seed(seed)
    observation, _ = env.reset(seed=seed)
    num_observations, num_actions = env.observation_space.shape[0], env.action_space.shape[0]
    high = float(env.action_space.high[0])
    actor = mlp(num_observations, 2 * num_actions)  # mean and log-std heads as one output layer
    critics = [mlp(num_observations + num_actions, 1) for _ in range(2)]
    targets = [mlp(num_observations + num_actions, 1) for _ in range(2)]
    for target, critic in zip(targets, critics):
        target.load_state_dict(critic.state_dict())
        target.requires_grad_(False)
    critic_parameters = [parameter for critic in critics for parameter in critic.parameters()]
    log_alpha = torch.zeros((), requires_grad=True)
    actor_optimizer = torch.optim.Adam(actor.parameters(), LEARNING_RATE, fused=True)
    critic_optimizer = torch.optim.Adam(critic_parameters, LEARNING_RATE, fused=True)
    alpha_optimizer = torch.optim.Adam([log_alpha], LEARNING_RATE, fused=True)
    buffer = torch.empty(env_steps, 2 * num_observations + num_actions + 2)

    def sample_action(states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = actor(states).chunk(2, dim=1)
        log_std = log_std.clamp(-20, 2)
        unbounded = mean + log_std.exp() * torch.randn_like(mean)
        log_prob = (-0.5 * ((unbounded - mean) / log_std.exp()) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(
            1
        )
        log_prob = log_prob - (2 * (np.log(2) - unbounded - F.softplus(-2 * unbounded))).sum(1)
        return high * torch.tanh(unbounded), log_prob.unsqueeze(1)

    def update(size: int) -> None:
        rows = buffer[torch.randint(size, (BATCH_SIZE,))]
        states, actions, rewards, next_states, terminated = rows.split(
            [num_observations, num_actions, 1, num_observations, 1], dim=1
        )
        alpha = log_alpha.detach().exp()
        with torch.no_grad():
            next_actions, next_log_prob = sample_action(next_states)
            next_inputs = torch.cat([next_states, next_actions], 1)
            next_values = torch.min(targets[0](next_inputs), targets[1](next_inputs)) - alpha * next_log_prob
            target_values = rewards + 0.99 * (1 - terminated) * next_values
        inputs = torch.cat([states, actions], 1)
        critic_loss = 0.5 * sum(F.mse_loss(critic(inputs), target_values) for critic in critics)
        critic_optimizer.zero_grad()
        critic_loss.backward()
        critic_optimizer.step()
        new_actions, log_prob = sample_action(states)
        critic_inputs = torch.cat([states, new_actions], 1)
        for parameter in critic_parameters:
            parameter.requires_grad_(False)
        actor_loss = (
            alpha * log_prob - torch.min(critics[0](critic_inputs), critics[1](critic_inputs))
        ).mean()
        for parameter in critic_parameters:
            parameter.requires_grad_(True)
        actor_optimizer.zero_grad()
        actor_loss.backward()
        actor_optimizer.step()
        alpha_loss = -(log_alpha * (log_prob.detach() - num_actions)).mean()
        alpha_optimizer.zero_grad()
        alpha_loss.backward()
        alpha_optimizer.step()
        with torch.no_grad():
            for target, critic in zip(targets, critics):
                torch._foreach_lerp_(list(target.parameters()), list(critic.parameters()), 0.005)

    start = time.perf_counter()
    for step in range(env_steps):
        states = torch.as_tensor(observation, dtype=torch.float32)
        if step < WARMUP_STEPS:
            action = torch.as_tensor(env.action_space.sample())
        else:
            with torch.no_grad():
                action = sample_action(states.unsqueeze(0))[0][0]
        observation, reward, terminated, truncated, _ = env.step(action.numpy())
        next_states = torch.as_tensor(observation, dtype=torch.float32)
        scalars = torch.tensor([float(reward)])
        buffer[step] = torch.cat(
            [states, action.float(), scalars, next_states, torch.tensor([float(terminated)])]
        )
        if terminated or truncated:
            observation, _ = env.reset()
        if step >= WARMUP_STEPS:
            update(step + 1)
    elapsed = time.perf_counter() - start

    def policy(observation: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            mean = actor(torch.as_tensor(observation, dtype=torch.float32).unsqueeze(0)).chunk(2, dim=1)[0]
            return (high * torch.tanh(mean))[0].numpy()

    return {
        "steps_per_second": env_steps / elapsed,
        "final_return": evaluate(ENV_ID, policy, EVALUATION_EPISODES),
    }


CONTENDERS = {"rlblocks": run_rlblocks, "stable-baselines3": run_sb3, "plain torch": run_plain_torch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument(
        "--output", default=os.path.join(os.path.dirname(__file__), "results", "sac_pendulum.json")
    )
    arguments = parser.parse_args()
    settings = {
        "env": ENV_ID,
        "num_envs": 1,
        "hidden": [HIDDEN, HIDDEN],
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "warmup_steps": WARMUP_STEPS,
    }
    compare(CONTENDERS, arguments.seeds, arguments.steps, settings, arguments.output)


if __name__ == "__main__":
    main()
