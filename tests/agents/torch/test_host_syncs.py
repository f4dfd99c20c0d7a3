"""A training step makes no avoidable device-to-host synchronisation (counted on CPU by patching)."""

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.a2c import A2C
from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.rpo import RPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.noises.torch import GaussianNoise
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, Value
from tests.helpers.off_policy import AGENT_CLASSES, models_for
from tests.helpers.syncs import count_host_syncs

ON_POLICY = {"ppo": PPO, "a2c": A2C, "rpo": RPO}
TIMESTEPS = 500
INHERENT = 2  # the actions' copy to the env: .cpu() and .numpy()


def agent_on(name, env, directory):
    experiment = {"directory": str(directory), "experiment_name": name}  # default write/checkpoint intervals
    if name in ON_POLICY:
        policy_class = (
            CategoricalPolicy if env.action_space.__class__.__name__ == "Discrete" else GaussianPolicy
        )
        models = {
            "policy": policy_class(env.observation_space, env.action_space, hidden=(16,)),
            "value": Value(env.observation_space, env.action_space, hidden=(16,)),
        }
        return ON_POLICY[name](
            models,
            RandomMemory(16, env.num_envs),
            env.observation_space,
            env.action_space,
            "cpu",
            {"experiment": experiment},
        )
    cfg = {"experiment": experiment}
    if name in ("td3", "ddpg"):
        cfg["exploration"] = {"noise": GaussianNoise(0.0, 0.1, "cpu")}
    memory = RandomMemory(10_000, env.num_envs)
    return AGENT_CLASSES[name](
        models_for(name, env), memory, env.observation_space, env.action_space, "cpu", cfg
    )


@pytest.mark.parametrize("name", ["ppo", "a2c", "rpo", "sac", "td3", "ddpg", "dqn", "ddqn"])
def test_at_most_two_and_a_half_host_syncs_per_trainer_step_with_default_logging(name, tmp_path):
    env_id = "CartPole-v1" if name in ("dqn", "ddqn") else "Pendulum-v1"
    env = wrap_env(gym.make_vec(env_id, num_envs=4, vectorization_mode="sync"), verbose=False)
    agent = agent_on(name, env, tmp_path)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": TIMESTEPS, "headless": True, "disable_progressbar": True}
    )
    with count_host_syncs() as counts:
        trainer.train()
    per_step = counts["total"] / TIMESTEPS
    assert counts["cpu"] == counts["numpy"] == TIMESTEPS  # the inherent action copy, once per step
    assert per_step <= 2.5, dict(counts)
    assert (per_step - INHERENT) * TIMESTEPS <= 20  # the rest: a few reads per log write / checkpoint


def test_the_counter_counts_each_syncing_method():
    tensor = torch.ones(2)
    with count_host_syncs() as counts:
        tensor.sum().item()
        bool(tensor.all())
        tensor.tolist()
        tensor.nonzero()
    assert counts["total"] == 4 and counts["item"] == 1 and counts["nonzero"] == 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["ppo", "dqn"])
def test_training_steps_on_cuda_with_a_torch_env_never_sync(name, tmp_path):
    from rlblocks.agents.torch.dqn import DQN
    from rlblocks.envs.torch.batched import CartPole
    from rlblocks.utils.model_instantiators import categorical_model, deterministic_model

    env = wrap_env(CartPole(num_envs=64, device="cuda"), verbose=False)
    spaces = (env.observation_space, env.action_space, "cuda")
    experiment = {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}
    if name == "ppo":
        models = {"policy": categorical_model(*spaces), "value": deterministic_model(*spaces)}
        agent = PPO(models, RandomMemory(16, 64, "cuda"), *spaces, {"experiment": experiment})
    else:
        models = {
            role: deterministic_model(*spaces, output_shape=2) for role in ("q_network", "target_q_network")
        }
        agent = DQN(models, RandomMemory(1000, 64, "cuda"), *spaces, {"experiment": experiment})
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": 64, "headless": True, "disable_progressbar": True}
    )
    trainer.train()  # warm-up: lazy allocations may sync once
    trainer.cfg["timesteps"] = 128
    trainer.initial_timestep = 64
    torch.cuda.set_sync_debug_mode("error")
    try:
        trainer.train()
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.parametrize("name", ["ppo", "dqn"])
def test_with_a_torch_env_a_training_step_reads_nothing_on_the_host(name, tmp_path):
    """The batched CartPole keeps everything on the device: no action copy, no flag read per step."""
    from rlblocks.envs.torch.batched import CartPole

    env = wrap_env(CartPole(num_envs=16), verbose=False)
    agent = agent_on(name, env, tmp_path)
    agent.cfg.experiment.write_interval = 0
    agent.cfg.experiment.checkpoint_interval = 0
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": 200, "headless": True, "disable_progressbar": True}
    )
    with count_host_syncs() as counts:
        trainer.train()
    assert counts["total"] == 0, dict(counts)
