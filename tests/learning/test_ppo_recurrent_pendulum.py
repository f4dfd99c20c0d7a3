"""PPO with a GRU policy and value swings up velocity-less Pendulum.

Without theta_dot, (cos θ, sin θ) does not say which way the pendulum swings; the GRU infers it
from the last observations. Training and evaluation run on the batched torch Pendulum
(`BatchedVelocityRemoved`), 256 envs; the deterministic evaluation plays a fresh batch of 256 envs
for one 200-step episode each.

Budget and measured results: see `test_gru_ppo_swings_up_velocityless_pendulum`.
"""

import time

import pytest

from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import Pendulum
from rlblocks.envs.torch.wrappers.partial_observability import BatchedVelocityRemoved
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from rlblocks.utils.model_instantiators import Shape, deterministic_model, gaussian_model
from tests.learning.evaluation import batched_first_episode_return

pytestmark = pytest.mark.learning

NUM_ENVS, TIMESTEPS, ROLLOUTS, SEQUENCE_LENGTH, EPOCHS, MINI_BATCHES = 256, 1200, 32, 32, 10, 4
TARGET = -400


def velocityless_pendulum(seed):
    return wrap_env(BatchedVelocityRemoved(Pendulum(NUM_ENVS, seed=seed)), verbose=False)


def train_gru_ppo(seed: int = 0) -> PPO:
    set_seed(seed)
    env = velocityless_pendulum(seed)
    rnn = {"type": "gru", "hidden_size": 64, "num_layers": 1, "sequence_length": SEQUENCE_LENGTH}
    layers = {"hiddens": [64], "hidden_activation": "tanh", "rnn": rnn}
    spaces = (env.observation_space, env.action_space, "cpu")
    models = {
        "policy": gaussian_model(
            *spaces, clip_actions=True, output_activation="tanh", output_scale=2.0, **layers
        ),
        "value": deterministic_model(*spaces, output_shape=Shape.ONE, output_activation=None, **layers),
    }
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": ROLLOUTS,
        "learning_epochs": EPOCHS,
        "mini_batches": MINI_BATCHES,
        "discount_factor": 0.9,
        "lambda": 0.95,
        "learning_rate": 1e-3,
        "learning_rate_scheduler": KLAdaptiveRL,
        "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
        "grad_norm_clip": 0.5,
        "value_loss_scale": 0.5,
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": env.observation_space},
        "value_preprocessor": RunningStandardScaler,
        "value_preprocessor_kwargs": {"size": 1},
        "experiment": {**PPO_DEFAULT_CONFIG["experiment"], "write_interval": 0, "checkpoint_interval": 0},
    }
    agent = PPO(models, RandomMemory(ROLLOUTS, NUM_ENVS), *spaces, cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": TIMESTEPS, "headless": True, "disable_progressbar": True}
    )
    trainer.train()
    return agent


def test_gru_ppo_swings_up_velocityless_pendulum(one_torch_thread):
    """256 envs x 1200 steps = 307k env steps: 37 updates of 10 epochs x 4 mini-batches of whole
    32-step sequences; GRU-64 policy and value, each followed by a 64-unit tanh layer; γ 0.9, λ 0.95,
    lr 1e-3 with the KL-adaptive schedule (0.008), running state and value scaling, seed 0.

    Measured on the 2-core VM while it ran other engineers' jobs (load average 10-18, so the times
    are several times the quiet machine's): mean deterministic return −236.5 (the worst env −960),
    670 s of training; seed 1 (not the test's) −338.5 in 132 s of training on the quieter VM (load
    about 4); the same settings with 800 steps (205k env steps) reached −446.7 (seed 0). The time
    is printed, not asserted: on a shared machine it measures the load more than the test. The
    whole test took 129 s at 14:55 UTC with load average 4.5 (two other jobs on the 2 cores), and
    34 s (−236.5) on the quiet VM at 16:46 UTC.
    """
    start = time.perf_counter()
    agent = train_gru_ppo()
    mean_return = batched_first_episode_return(agent, velocityless_pendulum(seed=1234), steps=200)
    elapsed = time.perf_counter() - start
    print(f"mean return {mean_return:.1f} in {elapsed:.0f} s")
    assert mean_return >= TARGET
