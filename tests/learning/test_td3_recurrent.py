"""TD3 with a GRU policy and GRU critics swings up velocity-less Pendulum.

Without theta_dot, (cos θ, sin θ) does not say which way the pendulum swings: the policy and the
critics read it from their GRU states (the critics' GRU reads the states and the taken actions).
Training runs on one env of the batched torch Pendulum (`BatchedVelocityRemoved`), the replay
memory holds the whole run, the agent samples runs of L + 1 steps (`rlblocks.agents.torch.off_policy.
recurrent`); the deterministic evaluation plays a fresh batch of 64 envs for one 200-step episode.

Budget and measured results: see `test_gru_td3_swings_up_velocityless_pendulum`.
"""

import time

import pytest

from rlblocks.agents.torch.td3 import TD3, TD3_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import Pendulum
from rlblocks.envs.torch.wrappers.partial_observability import BatchedVelocityRemoved
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.noises.torch import GaussianNoise
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from rlblocks.utils.model_instantiators import Shape, deterministic_model
from tests.learning.evaluation import batched_first_episode_return

pytestmark = pytest.mark.learning

TIMESTEPS, WARM_UP, SEQUENCE_LENGTH, BATCH_SIZE = 16000, 1000, 8, 64
TARGET = -400


def velocityless_pendulum(num_envs, seed):
    return wrap_env(BatchedVelocityRemoved(Pendulum(num_envs, seed=seed)), verbose=False)


def train_gru_td3(seed: int = 0) -> TD3:
    set_seed(seed)
    env = velocityless_pendulum(1, seed)
    rnn = {"type": "gru", "hidden_size": 64, "num_layers": 1, "sequence_length": SEQUENCE_LENGTH}
    layers = {"hiddens": [64], "hidden_activation": "relu", "rnn": rnn}
    spaces = (env.observation_space, env.action_space, "cpu")
    models = {
        role: deterministic_model(*spaces, output_activation="tanh", output_scale=2.0, **layers)
        for role in ("policy", "target_policy")
    }
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        models[role] = deterministic_model(
            *spaces,
            input_shape=Shape.STATES_ACTIONS,
            output_shape=Shape.ONE,
            output_activation=None,
            **layers,
        )
    cfg = {
        **TD3_DEFAULT_CONFIG,
        "batch_size": BATCH_SIZE,
        "discount_factor": 0.98,
        "actor_learning_rate": 1e-3,
        "critic_learning_rate": 1e-3,
        "random_timesteps": WARM_UP,
        "learning_starts": WARM_UP,
        "exploration": {"noise": GaussianNoise(0.0, 0.1, "cpu"), "final_scale": 1.0},
        "experiment": {**TD3_DEFAULT_CONFIG["experiment"], "write_interval": 0, "checkpoint_interval": 0},
    }
    agent = TD3(models, RandomMemory(TIMESTEPS, 1), *spaces, cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": TIMESTEPS, "headless": True, "disable_progressbar": True}
    )
    trainer.train()
    return agent


@pytest.mark.slow  # 211 s on the quiet 2-core VM: run with -m slow
def test_gru_td3_swings_up_velocityless_pendulum(one_torch_thread):
    """16000 steps of one env (1000 uniformly random warm-up steps, then one update per step: 15000
    updates of 64 sequences of 8 + 1 steps); GRU-64 policy and critics, each followed by a 64-unit
    ReLU layer; γ 0.98, lr 1e-3, N(0, 0.1²) exploration noise, TD3's default smoothing and policy
    delay 2 (the feed-forward TD3 test's settings, rl-zoo3's for Pendulum), seed 0.

    Measured on the 2-core VM: mean deterministic return −189.3 (worst env −530) in 578 s of
    training (load average about 4: two other jobs on the 2 cores); 10000 steps reached −491.3
    (212 s, quieter), 6000 steps −638.0. The whole test: −189.3 in 211 s on the quiet VM (load
    under 1.5). The target is reached, but the run is far above the
    default suite's minute, so the test is marked ``slow`` (excluded by default; ``-m slow``).
    The time is printed, not asserted (shared machine).

    Smaller budgets measured on the quiet VM (seed 0, one torch thread, the evaluation above), to
    fit a minute: GRU-32 policy and critics, sequences of 4, batches of 256: 8000 steps −440.5
    (82 s of training), 9000 steps −445.9 (90 s), the same with lr 2e-3 −1006.8; GRU-64 with
    sequences of 4 and batches of 128, 8000 steps: −1170.7 (87 s); GRU-64, sequences of 8, batches
    of 256, 8000 steps: −196.6 but 214 s. SAC with a GRU-32 policy and critics (sequences of 4,
    batches of 256, learnt entropy from 1.0), 8000 steps: −425.7 in 115 s. Each update runs the
    GRUs about six times (policy, target policy, two critics, two target critics) over its
    sequences, 7-14 ms per update on one core, so the ~8000 updates Pendulum needs take longer
    than a minute here.
    """
    start = time.perf_counter()
    agent = train_gru_td3()
    mean_return = batched_first_episode_return(agent, velocityless_pendulum(64, seed=1234), steps=200)
    elapsed = time.perf_counter() - start
    print(f"mean return {mean_return:.1f} in {elapsed:.0f} s")
    assert mean_return >= TARGET
