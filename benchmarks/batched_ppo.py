"""PPO on the batched torch CartPole: rlblocks against skrl 2.x and a plain-torch loop, same run.

The env is `rlblocks.envs.torch.batched.CartPole` (torch tensors in and out, SAME_STEP autoreset)
at 1,024 and 4,096 envs, handed to each contender as it would hand a GPU simulator over:

- rlblocks: `wrap_env(env)` (`TorchVectorWrapper`, no copies), `PPO`, `RandomMemory`,
  `SequentialTrainer`;
- skrl 2.x: the same env behind `SkrlTorchEnvWrapper`, a pass-through subclass of skrl's own
  `Wrapper` written like skrl's Isaac Lab wrapper (next observations are the env's returned ones,
  i.e. the reset observations for ended envs), skrl's `PPO`, `RandomMemory`, `SequentialTrainer`;
- plain torch: the same computation as one loop with nothing but what PPO needs (the floor any
  library can reach): sample, step, store; V of the rollout in one batch; GAE; shuffled
  mini-batches of the clipped surrogate plus the value MSE; global-norm clipping; fused Adam.

Identical settings: separate 2x64 tanh MLPs for policy (2 logits) and value, initialised as SB3
does (`ppo_cartpole.mlp`); 16-step rollouts, 4 epochs of 4 mini-batches, Adam lr 1e-3 (constant),
γ 0.99, λ 0.95, ratio clip 0.2, no value clipping, no entropy term, value loss scale 0.5, grad
norm 0.5, normalised advantages, no time-limit bootstrapping (skrl 2.x's default; with it,
rlblocks would evaluate V(s') at every step, as a torch env cannot say on the host whether an
episode ended), one torch thread, no logging or checkpoints.

Each run times the whole `train()` call (or the plain loop): collection and updates. Runs are
interleaved (repeat r: 1,024 envs rlblocks, skrl, plain; 4,096 envs rlblocks, skrl, plain) after
one untimed warm-up run each. The final return is the mean over 10 episodes of gymnasium's
CartPole-v1 (seeds 1000..1009) of the deterministic (argmax) policy.

Run: ``.venv/bin/python benchmarks/batched_ppo.py [--repeats 3] [--updates 20] [--output PATH]``;
``--quick`` is a smoke run (one repeat of 2 updates, a few seconds) that writes no JSON unless
``--output`` is given.
(needs skrl 2.x: ``pip install -e ".[bench]"``, or ``pip install --no-deps skrl``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch
from comparison import evaluate
from ppo_cartpole import mlp
from torch import nn

from rlblocks.envs.torch.batched import CartPole

NUM_ENVS = (1024, 4096)
ROLLOUTS = 16
EPOCHS = 4
MINI_BATCHES = 4
LEARNING_RATE = 1e-3
DISCOUNT = 0.99
GAE_LAMBDA = 0.95
RATIO_CLIP = 0.2
VALUE_LOSS_SCALE = 0.5
GRAD_NORM_CLIP = 0.5
EVALUATION_EPISODES = 10

Run = Callable[[int, int, int], tuple[float, nn.Module]]
"""(seed, num_envs, updates) -> (seconds of training, the policy's logits network)."""


def greedy_return(network: nn.Module) -> float:
    """Mean return of argmax(network(observation)) on gymnasium's CartPole-v1."""

    def policy(observation):
        with torch.no_grad():
            return int(network(torch.as_tensor(observation).view(1, -1)).argmax())

    return evaluate("CartPole-v1", policy, episodes=EVALUATION_EPISODES)


# ---------------------------------------------------------------------- rlblocks
def run_rlblocks(seed: int, num_envs: int, updates: int) -> tuple[float, nn.Module]:
    from rlblocks.agents.torch.ppo import PPO
    from rlblocks.envs.torch import wrap_env
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, Model
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import set_seed

    class Policy(CategoricalMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            CategoricalMixin.__init__(self, role="policy")
            self.net = mlp(self.num_observations, self.num_actions, output_gain=0.01)

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self, role="value")
            self.net = mlp(self.num_observations, 1, output_gain=1.0)

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    set_seed(seed)
    env = wrap_env(CartPole(num_envs, seed=seed), verbose=False)
    cfg = {
        "rollouts": ROLLOUTS,
        "learning_epochs": EPOCHS,
        "mini_batches": MINI_BATCHES,
        "learning_rate": LEARNING_RATE,
        "discount_factor": DISCOUNT,
        "lambda": GAE_LAMBDA,
        "ratio_clip": RATIO_CLIP,
        "clip_predicted_values": False,
        "entropy_loss_scale": 0.0,
        "value_loss_scale": VALUE_LOSS_SCALE,
        "grad_norm_clip": GRAD_NORM_CLIP,
        "time_limit_bootstrap": False,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    models = {
        "policy": Policy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    memory = RandomMemory(ROLLOUTS, num_envs)
    agent = PPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": updates * ROLLOUTS, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start, models["policy"].net


# ---------------------------------------------------------------------- skrl 2.x
def run_skrl(seed: int, num_envs: int, updates: int) -> tuple[float, nn.Module]:
    from skrl.agents.torch.ppo import PPO, PPO_CFG
    from skrl.envs.wrappers.torch.base import Wrapper
    from skrl.memories.torch import RandomMemory
    from skrl.models.torch import CategoricalMixin, DeterministicMixin, Model
    from skrl.trainers.torch import SequentialTrainer
    from skrl.utils import set_seed
    from skrl.utils.spaces.torch import (
        flatten_tensorized_space,
        tensorize_space,
        unflatten_tensorized_space,
    )

    class SkrlTorchEnvWrapper(Wrapper):
        """A torch vector env as skrl's Isaac Lab wrapper hands one over (no conversion)."""

        def __init__(self, env):
            super().__init__(env)
            self._reset_once = True
            self._observations = None
            self._info = {}

        @property
        def observation_space(self):
            return self._unwrapped.single_observation_space

        @property
        def action_space(self):
            return self._unwrapped.single_action_space

        def step(self, actions):
            actions = unflatten_tensorized_space(self.action_space, actions)
            with torch.no_grad():
                observations, rewards, terminated, truncated, self._info = self._env.step(actions)
            self._observations = flatten_tensorized_space(
                tensorize_space(self.observation_space, observations)
            )
            return (
                self._observations,
                rewards.view(-1, 1),
                terminated.view(-1, 1),
                truncated.view(-1, 1),
                self._info,
            )

        def state(self):
            return None

        def reset(self):
            if self._reset_once:
                observations, self._info = self._env.reset()
                self._observations = flatten_tensorized_space(
                    tensorize_space(self.observation_space, observations)
                )
                self._reset_once = False
            return self._observations, self._info

        def render(self, *args, **kwargs):
            return None

        def close(self):
            self._env.close()

    class Policy(CategoricalMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space=observation_space, action_space=action_space, device="cpu")
            CategoricalMixin.__init__(self, unnormalized_log_prob=True, role="policy")
            self.net = mlp(self.num_observations, self.num_actions, output_gain=0.01)

        def compute(self, inputs, role=""):
            return self.net(inputs["observations"]), {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space=observation_space, action_space=action_space, device="cpu")
            DeterministicMixin.__init__(self, role="value")
            self.net = mlp(self.num_observations, 1, output_gain=1.0)

        def compute(self, inputs, role=""):
            return self.net(inputs["observations"]), {}

    set_seed(seed)
    env = SkrlTorchEnvWrapper(CartPole(num_envs, seed=seed))
    cfg = PPO_CFG(
        rollouts=ROLLOUTS,
        learning_epochs=EPOCHS,
        mini_batches=MINI_BATCHES,
        learning_rate=LEARNING_RATE,
        discount_factor=DISCOUNT,
        gae_lambda=GAE_LAMBDA,
        ratio_clip=RATIO_CLIP,
        value_clip=0.0,
        entropy_loss_scale=0.0,
        value_loss_scale=VALUE_LOSS_SCALE,
        grad_norm_clip=GRAD_NORM_CLIP,
        time_limit_bootstrap=False,
        experiment={"directory": tempfile.gettempdir(), "write_interval": 0, "checkpoint_interval": 0},
    )
    models = {
        "policy": Policy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, env.action_space),
    }
    memory = RandomMemory(memory_size=ROLLOUTS, num_envs=num_envs, device="cpu")
    agent = PPO(
        models=models,
        memory=memory,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device="cpu",
        cfg=cfg,
    )
    trainer = SequentialTrainer(
        env=env,
        agents=agent,
        cfg={"timesteps": updates * ROLLOUTS, "headless": True, "disable_progressbar": True},
    )
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start, models["policy"].net


# ---------------------------------------------------------------------- plain torch
def run_plain(seed: int, num_envs: int, updates: int) -> tuple[float, nn.Module]:
    torch.manual_seed(seed)
    env = CartPole(num_envs, seed=seed)
    size = env.single_observation_space.shape[0]
    policy, value = mlp(size, 2, output_gain=0.01), mlp(size, 1, output_gain=1.0)
    parameters = [*policy.parameters(), *value.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE, fused=True)
    shape = (ROLLOUTS, num_envs)
    stored_observations = torch.empty(*shape, size)
    stored_actions = torch.empty(shape, dtype=torch.int64)
    stored_log_prob, stored_rewards = torch.empty(shape), torch.empty(shape)
    stored_ends = torch.empty(shape, dtype=torch.bool)
    rows = ROLLOUTS * num_envs
    batch_size = rows // MINI_BATCHES

    start = time.perf_counter()
    observations, _ = env.reset()
    for _ in range(updates):
        with torch.no_grad():
            for step in range(ROLLOUTS):
                log_probabilities = policy(observations).log_softmax(-1)
                actions = torch.multinomial(log_probabilities.exp(), 1)
                stored_observations[step] = observations
                stored_actions[step] = actions.view(-1)
                stored_log_prob[step] = log_probabilities.gather(1, actions).view(-1)
                observations, rewards, terminated, truncated, _ = env.step(actions)
                stored_rewards[step] = rewards
                stored_ends[step] = terminated | truncated
            values = value(stored_observations.view(rows, size)).view(shape)
            next_value = value(observations).view(-1)
            advantages = torch.empty(shape)
            advantage = torch.zeros(num_envs)
            for step in reversed(range(ROLLOUTS)):
                is_going_on = ~stored_ends[step]
                delta = stored_rewards[step] + DISCOUNT * next_value * is_going_on - values[step]
                advantage = delta + DISCOUNT * GAE_LAMBDA * is_going_on * advantage
                advantages[step] = advantage
                next_value = values[step]
            returns = (advantages + values).view(rows)
            advantages = ((advantages - advantages.mean()) / (advantages.std() + 1e-8)).view(rows)
        batch_observations = stored_observations.view(rows, size)
        batch_actions, batch_log_prob = stored_actions.view(rows, 1), stored_log_prob.view(rows)
        for _ in range(EPOCHS):
            for indices in torch.randperm(rows).split(batch_size):
                states = batch_observations[indices]
                log_prob = policy(states).log_softmax(-1).gather(1, batch_actions[indices]).view(-1)
                ratio = torch.exp(log_prob - batch_log_prob[indices])
                batch_advantages = advantages[indices]
                policy_loss = -torch.min(
                    batch_advantages * ratio,
                    batch_advantages * torch.clamp(ratio, 1 - RATIO_CLIP, 1 + RATIO_CLIP),
                ).mean()
                value_loss = nn.functional.mse_loss(value(states).view(-1), returns[indices])
                optimizer.zero_grad(set_to_none=True)
                (policy_loss + VALUE_LOSS_SCALE * value_loss).backward()
                nn.utils.clip_grad_norm_(parameters, GRAD_NORM_CLIP, foreach=True)
                optimizer.step()
    return time.perf_counter() - start, policy


CONTENDERS: dict[str, Run] = {"rlblocks": run_rlblocks, "skrl": run_skrl, "plain torch": run_plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--updates", type=int, default=20, help="PPO updates per run (16 steps each)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 repeat of 2 updates, no JSON unless --output"
    )
    parser.add_argument("--output", default=None, help="default: benchmarks/results/batched_ppo.json")
    arguments = parser.parse_args()
    repeats, updates = (1, 2) if arguments.quick else (arguments.repeats, arguments.updates)
    torch.set_num_threads(1)

    for run in CONTENDERS.values():  # warm-up: lazy initialisations, allocator, caches
        run(0, NUM_ENVS[0], 1)
    runs: dict[int, dict[str, list[dict[str, float]]]] = {
        n: {name: [] for name in CONTENDERS} for n in NUM_ENVS
    }
    for repeat in range(repeats):
        for num_envs in NUM_ENVS:
            for name, run in CONTENDERS.items():
                seconds, network = run(repeat, num_envs, updates)
                result = {
                    "steps_per_second": updates * ROLLOUTS * num_envs / seconds,
                    "seconds": seconds,
                    "final_return": greedy_return(network),
                }
                runs[num_envs][name].append(result)
                print(
                    f"{num_envs:5d} envs {name:12s} repeat {repeat}: {result['steps_per_second']:10.0f} "
                    f"env steps/s ({seconds:6.2f} s), return {result['final_return']:6.1f}",
                    flush=True,
                )

    summary: dict[int, dict[str, Any]] = {}
    print(
        "\n| envs | rlblocks steps/s | skrl steps/s | plain torch steps/s | rlblocks/skrl | rlblocks/plain |"
    )
    print("|---|---|---|---|---|---|")
    for num_envs, by_name in runs.items():
        medians = {
            name: {key: statistics.median(result[key] for result in results) for key in results[0]}
            for name, results in by_name.items()
        }
        speed = {name: values["steps_per_second"] for name, values in medians.items()}
        ratios = {
            "rlblocks/skrl": speed["rlblocks"] / speed["skrl"],
            "rlblocks/plain": speed["rlblocks"] / speed["plain torch"],
        }
        summary[num_envs] = {"medians": medians, "ratios": ratios}
        print(
            f"| {num_envs} | {speed['rlblocks']:.0f} | {speed['skrl']:.0f} | {speed['plain torch']:.0f} | "
            f"{ratios['rlblocks/skrl']:.2f} | {ratios['rlblocks/plain']:.2f} |"
        )

    import skrl

    report = {
        "settings": {
            "env": "rlblocks.envs.torch.batched.CartPole (float64 physics)",
            "num_envs": list(NUM_ENVS),
            "rollouts": ROLLOUTS,
            "learning_epochs": EPOCHS,
            "mini_batches": MINI_BATCHES,
            "learning_rate": LEARNING_RATE,
            "updates_per_run": updates,
            "repeats": repeats,
            "quick": arguments.quick,
            "torch_threads": 1,
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "torch": torch.__version__,
            "skrl": skrl.__version__,
        },
        "runs": runs,
        "summary": summary,
    }
    output = arguments.output
    if output is None:
        if arguments.quick:  # a smoke run does not replace the recorded figures
            return
        output = os.path.join(os.path.dirname(__file__), "results", "batched_ppo.json")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as stream:
        json.dump(report, stream, indent=2)


if __name__ == "__main__":
    main()
