"""PPO or SAC updates on fixed data: run by torchrun (each rank its half of the envs) or alone (all envs).

usage: updates.py {ppo,sac} OUT_DIR [early_stop]

The data of 2·N envs is drawn from a fixed generator; rank r of 2 uses envs [r·N, (r+1)·N), one
process uses them all. After every update the agent's state (parameters, buffers, optimizer
states, α) is saved to OUT_DIR/<tag>_<update>.pt, tag "rank<r>" or "single". ``early_stop``
(PPO): rank 1's stored log-probs are shifted so that its own KL alone exceeds the threshold.
"""

from __future__ import annotations

import os
import sys

import gymnasium
import numpy as np
import torch
from torch import nn

from rlblocks.agents.torch.base import META_KEY
from rlblocks.agents.torch.off_policy.recurrent import ReplayBatch
from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from rlblocks.config import torch as config
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.utils import set_seed
from tests.helpers.models import GaussianPolicy, Value, sac_models

ENVS = 8  # all ranks together
ROLLOUTS = 6
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def envs_of_this_rank() -> slice:
    per_rank = ENVS // config.world_size
    return slice(config.rank * per_rank, (config.rank + 1) * per_rank)


def save(agent, out: str, update: int, **extra) -> None:
    state = {name: value for name, value in agent.checkpoint().items() if name != META_KEY}
    tag = f"rank{config.rank}" if config.is_distributed else "single"
    torch.save({**state, **extra}, os.path.join(out, f"{tag}_{update}.pt"))


def ppo(out: str, early_stop: bool) -> None:
    observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (4,), np.float32)
    action_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    envs = envs_of_this_rank()
    num_envs = envs.stop - envs.start
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": ROLLOUTS,
        "learning_epochs": 3,
        "mini_batches": 1,
        "learning_rate": 1e-3,
        "grad_norm_clip": 0.5,
        "kl_threshold": 0.05 if early_stop else 0,
        "learning_rate_scheduler": None if early_stop else KLAdaptiveRL,
        "learning_rate_scheduler_kwargs": {} if early_stop else {"kl_threshold": 1e-4},
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": observation_space},
        "value_preprocessor": RunningStandardScaler,
        "value_preprocessor_kwargs": {"size": 1},
        "entropy_loss_scale": 0.01,
        "experiment": NO_LOGS,
    }
    models = {
        "policy": GaussianPolicy(observation_space, action_space, hidden=(16,)),
        "value": Value(observation_space, action_space, hidden=(16,)),
    }
    memory = RandomMemory(memory_size=ROLLOUTS, num_envs=num_envs)
    agent = PPO(models, memory, observation_space, action_space, "cpu", cfg)
    agent.init()
    data = torch.Generator().manual_seed(7)
    steps = []
    for update in range(2):
        for _ in range(ROLLOUTS):
            states = torch.randn(ENVS, 4, generator=data) * 2 + 1
            actions = torch.randn(ENVS, 2, generator=data).clamp(-1, 1)
            rewards = torch.randn(ENVS, 1, generator=data)
            ended = torch.rand(ENVS, 1, generator=data) < 0.1
            truncated = torch.rand(ENVS, 1, generator=data) < 0.05
            next_states = torch.randn(ENVS, 4, generator=data)
            states, actions, rewards, ended, truncated = (
                x[envs] for x in (states, actions, rewards, ended, truncated)
            )
            with torch.no_grad():
                processed = agent._state_preprocessor(states, train=True)
                log_prob = agent.policy.act({"states": processed, "taken_actions": actions}, role="policy")[1]
            if early_stop and config.rank == 1:
                log_prob = log_prob - 3.0
            memory.add_samples(
                states=processed,
                actions=actions,
                rewards=rewards,
                terminated=ended,
                truncated=truncated,
                log_prob=log_prob,
            )
        agent._last_next_states = next_states[envs]
        agent.set_mode("train")
        agent._update(0, 1)
        agent.set_mode("eval")
        steps.append(int(agent.optimizer.state[agent.optimisation.parameters[0]].get("step", 0)))
        save(
            agent,
            out,
            update,
            optimizer_steps=torch.tensor(steps),
            lr=torch.tensor(agent.optimisation.learning_rate),
        )


class StateNoisePolicy(GaussianPolicy):
    """A Gaussian policy whose reparameterisation noise is a fixed function of the state.

    A batch split over ranks then meets the same noise, row for row, as the whole batch in one
    process (torch's generator would give each rank other numbers).
    """

    def act(self, inputs, role=""):
        mean, log_std, _ = self.compute(inputs, role)
        std = log_std.exp().expand_as(mean)
        noise = torch.sin(inputs["states"].sum(dim=-1, keepdim=True) * 12.9898 + torch.arange(mean.shape[-1]))
        actions = mean + std * noise
        log_prob = torch.distributions.Normal(mean, std).log_prob(actions).sum(dim=-1, keepdim=True)
        return actions, log_prob, {"mean_actions": mean}


def sac(out: str) -> None:
    observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (3,), np.float32)
    action_space = gymnasium.spaces.Box(-2.0, 2.0, (1,), np.float32)
    models = sac_models(observation_space, action_space)
    models["policy"] = StateNoisePolicy(
        observation_space, action_space, hidden=(16,), activation=nn.ReLU, output_scale=2.0
    )
    cfg = {
        **SAC_DEFAULT_CONFIG,
        "batch_size": 16,
        "gradient_steps": 2,
        "learn_entropy": True,
        "entropy_learning_rate": 1e-2,
        "grad_norm_clip": 1.0,
        "experiment": NO_LOGS,
    }
    envs = envs_of_this_rank()
    memory = RandomMemory(memory_size=4, num_envs=envs.stop - envs.start)
    agent = SAC(models, memory, observation_space, action_space, "cpu", cfg)
    agent.init()
    data = torch.Generator().manual_seed(11)
    rows = slice(envs.start * 2, envs.stop * 2)  # 2 rows per env: 16 rows for 8 envs
    for update in range(2):
        full = ReplayBatch(
            states=torch.randn(16, 3, generator=data),
            actions=torch.rand(16, 1, generator=data) * 4 - 2,
            rewards=torch.randn(16, 1, generator=data),
            next_states=torch.randn(16, 3, generator=data),
            terminated=torch.rand(16, 1, generator=data) < 0.2,
        )
        batch = ReplayBatch(*(field[rows] for field in full[:5]))
        agent.sample_batch = lambda batch=batch: batch
        agent.set_mode("train")
        agent._update(0, 1)
        agent.set_mode("eval")
        save(agent, out, update, alpha=agent.entropy_coefficient.value.clone())


if __name__ == "__main__":
    set_seed(0)  # rank r: seed r; rank 0 and the single process start from the same parameters
    torch.set_num_threads(1)
    algorithm, out = sys.argv[1], sys.argv[2]
    if algorithm == "ppo":
        ppo(out, early_stop="early_stop" in sys.argv[3:])
    else:
        sac(out)
