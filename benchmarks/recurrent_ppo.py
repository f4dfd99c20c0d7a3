"""Recurrent PPO speed and final return: rlblocks against sb3-contrib's `RecurrentPPO`, same run.

Task: velocity-less CartPole, gymnasium's CartPole-v1 with (x_dot, theta_dot) removed from the
observation (`rlblocks.envs.torch.wrappers.partial_observability.VelocityRemoved`), 8 envs stepped
one after the other in the process (gymnasium's sync vector env for rlblocks, SB3's `DummyVecEnv`
for sb3-contrib, the same wrapped env inside). The remaining (x, theta) do not say where the pole
is going: a policy has to remember.

Settings (both libraries; rl-zoo3's CartPoleNoVel-v1 settings for `RecurrentPPO` but the clip
range, constant here): separate policy and value, each an LSTM of 64 units followed by one 64-unit
ReLU layer and its head; 32-step rollouts trained as whole sequences (rlblocks sequence_length 32,
sb3-contrib runs each env's rollout as one sequence, cut at episode starts), 20 epochs of one
mini-batch of the 256 steps, lr 1e-3 annealed linearly to 0, γ 0.98, λ 0.8, clip 0.2, no entropy
bonus, value coefficient 0.5, grad norm 0.5, no observation normalisation, one torch thread.
Initialisation is each library's own (sb3-contrib's orthogonal initialisation is off, as in
rl-zoo3). Seeds run interleaved (rlblocks seed 0, sb3-contrib seed 0, rlblocks seed 1, ...) so
machine load hits both alike.

Reported per run: env steps/s (wall clock of the whole `learn`/`train` call, updates included)
and the final return: the mean return of the last 100 finished training episodes (stochastic
policy), as both libraries keep it. The summary gives medians and the ratio rlblocks / sb3-contrib.

Run: ``.venv/bin/python benchmarks/recurrent_ppo.py [--seeds 3] [--steps 100000] [--output PATH]``
(needs sb3-contrib: ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import time

import gymnasium as gym
import torch
from comparison import compare, parse_arguments, sb3_training_run
from torch import nn

ENV_ID = "CartPole-v1"
NUM_ENVS = 8
ROLLOUT = 32
EPOCHS = 20
MINI_BATCHES = 1
LSTM_SIZE = 64
HIDDEN = 64
LEARNING_RATE = 1e-3
DISCOUNT_FACTOR = 0.98
GAE_LAMBDA = 0.8


def velocityless_cartpole() -> gym.Env:
    """One CartPole-v1 env without its velocity columns."""
    from rlblocks.envs.torch.wrappers.partial_observability import VelocityRemoved

    return VelocityRemoved(gym.make(ENV_ID))


def run_rlblocks(seed: int, env_steps: int) -> dict[str, float]:
    from rlblocks.agents.torch.ppo import PPO
    from rlblocks.envs.torch import wrap_env
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import set_seed
    from rlblocks.utils.model_instantiators import Shape, categorical_model, deterministic_model

    set_seed(seed)
    vector_env = gym.vector.SyncVectorEnv([velocityless_cartpole] * NUM_ENVS)
    vector_env.reset(seed=seed)
    env = wrap_env(vector_env, verbose=False)
    spaces = (env.observation_space, env.action_space, "cpu")
    rnn = {"type": "lstm", "hidden_size": LSTM_SIZE, "num_layers": 1, "sequence_length": ROLLOUT}
    layers = {"hiddens": [HIDDEN], "hidden_activation": "relu", "rnn": rnn}
    models = {
        "policy": categorical_model(*spaces, **layers),
        "value": deterministic_model(*spaces, output_shape=Shape.ONE, output_activation=None, **layers),
    }
    timesteps = env_steps // NUM_ENVS
    cfg = {
        "rollouts": ROLLOUT,
        "learning_epochs": EPOCHS,
        "mini_batches": MINI_BATCHES,
        "learning_rate": LEARNING_RATE,
        "learning_rate_scheduler": torch.optim.lr_scheduler.LinearLR,
        "learning_rate_scheduler_kwargs": {
            "start_factor": 1.0,
            "end_factor": 0.0,
            "total_iters": timesteps // ROLLOUT * EPOCHS,
        },
        "discount_factor": DISCOUNT_FACTOR,
        "lambda": GAE_LAMBDA,
        "ratio_clip": 0.2,
        "entropy_loss_scale": 0.0,
        "value_loss_scale": 0.5,
        "grad_norm_clip": 0.5,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = PPO(models, RandomMemory(ROLLOUT, NUM_ENVS), *spaces, cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    return {"steps_per_second": timesteps * NUM_ENVS / elapsed, "final_return": agent.recent_mean_return}


def run_sb3_contrib(seed: int, env_steps: int) -> dict[str, float]:
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = DummyVecEnv([lambda: Monitor(velocityless_cartpole())] * NUM_ENVS)
    env.seed(seed)

    def linear(progress_remaining: float) -> float:
        return progress_remaining * LEARNING_RATE

    model = RecurrentPPO(
        "MlpLstmPolicy",
        env,
        n_steps=ROLLOUT,
        batch_size=ROLLOUT * NUM_ENVS // MINI_BATCHES,
        n_epochs=EPOCHS,
        learning_rate=linear,
        gamma=DISCOUNT_FACTOR,
        gae_lambda=GAE_LAMBDA,
        clip_range=0.2,
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs={
            "lstm_hidden_size": LSTM_SIZE,
            "n_lstm_layers": 1,
            "shared_lstm": False,
            "enable_critic_lstm": True,
            "net_arch": {"pi": [HIDDEN], "vf": [HIDDEN]},
            "activation_fn": nn.ReLU,
            "ortho_init": False,
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )
    return sb3_training_run(model, env_steps)


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0], 100_000, "recurrent_ppo.json")
    settings = {
        "env": f"{ENV_ID} without velocities",
        "num_envs": NUM_ENVS,
        "rollout": ROLLOUT,
        "sequence_length": ROLLOUT,
        "epochs": EPOCHS,
        "mini_batches": MINI_BATCHES,
        "lstm_hidden_size": LSTM_SIZE,
        "hidden": HIDDEN,
    }
    contenders = {"rlblocks": run_rlblocks, "sb3-contrib": run_sb3_contrib}
    compare(contenders, arguments.seeds, arguments.steps, settings, arguments.output)


if __name__ == "__main__":
    main()
