"""Builders for the replay-based agents' tests: an env, the agent's models, a trainer run."""

from __future__ import annotations

import gymnasium as gym
import torch

from rlblocks.agents.torch.ddpg import DDPG
from rlblocks.agents.torch.dqn import DDQN, DQN
from rlblocks.agents.torch.sac import SAC
from rlblocks.agents.torch.td3 import TD3
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.models import deterministic_actor_critic_models, dqn_models, sac_models

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
AGENT_NAMES = ("sac", "td3", "ddpg", "dqn", "ddqn")


def vector_env(env_id: str, num_envs: int = 2):
    """A wrapped synchronous vector env of ``env_id``."""
    return wrap_env(gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def models_for(name: str, env, hidden=(16,), squash: bool = False) -> dict:
    """The model dict agent ``name`` needs on ``env`` (``squash``: a SAC policy for squash_actions)."""
    spaces = (env.observation_space, env.action_space)
    if name == "sac":
        return sac_models(*spaces, hidden=hidden, squash=squash)
    if name == "td3":
        return deterministic_actor_critic_models(*spaces, ("critic_1", "critic_2"), hidden=hidden)
    if name == "ddpg":
        return deterministic_actor_critic_models(*spaces, ("critic",), hidden=hidden)
    return dqn_models(*spaces, hidden=hidden)


AGENT_CLASSES = {"sac": SAC, "td3": TD3, "ddpg": DDPG, "dqn": DQN, "ddqn": DDQN}


def make_agent(name: str, env=None, cfg=None, memory_size: int = 64, models=None):
    """Agent ``name`` on ``env`` (default: Pendulum-v1 or CartPole-v1, 2 envs) with small models, no logs."""
    if env is None:
        env = vector_env("CartPole-v1" if name in ("dqn", "ddqn") else "Pendulum-v1")
    cfg = {"batch_size": 8, **(cfg or {})}
    cfg["experiment"] = {**NO_LOGS, **cfg.get("experiment", {})}
    memory = RandomMemory(memory_size, env.num_envs, "cpu") if memory_size else None
    agent = AGENT_CLASSES[name](
        models or models_for(name, env), memory, env.observation_space, env.action_space, "cpu", cfg
    )
    return agent, env


def train(agent, env, timesteps: int, **trainer_cfg) -> None:
    """Train ``agent`` on ``env`` for ``timesteps`` (the env stays open)."""
    cfg = {
        "timesteps": timesteps,
        "headless": True,
        "disable_progressbar": True,
        "close_environment_at_exit": False,
        **trainer_cfg,
    }
    SequentialTrainer(env, agent, cfg=cfg).train()


def parameters_of(model) -> list[torch.Tensor]:
    """Copies of a model's parameters."""
    return [parameter.detach().clone() for parameter in model.parameters()]


def set_linear(model, weight, bias=0.0) -> None:
    """Set the single Linear layer of a model built with ``hidden=()``."""
    layer = model.net[0]
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float32).view_as(layer.weight))
        layer.bias.fill_(bias)


def train_from_scratch(
    name: str, env_id: str, cfg: dict, timesteps: int, hidden=(64, 64), seed: int = 0, models=None
):
    """Seed everything, train agent ``name`` on one ``env_id`` env for ``timesteps``; return the agent.

    The memory holds every transition of the run.
    """
    from rlblocks.utils import set_seed

    set_seed(seed)
    vector = gym.make_vec(env_id, num_envs=1, vectorization_mode="sync")
    vector.reset(seed=seed)
    env = wrap_env(vector, verbose=False)
    agent, _ = make_agent(
        name,
        env=env,
        cfg=cfg,
        memory_size=timesteps,
        models=models or models_for(name, env, hidden, cfg.get("squash_actions", False)),
    )
    train(agent, env, timesteps, close_environment_at_exit=True)
    return agent
