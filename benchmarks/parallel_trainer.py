"""ParallelTrainer (a thread per agent) against SequentialTrainer, and the start-up of a process per agent.

Two PPO agents share a batched CartPole of 2 x 128 envs (one torch thread per agent, as on the
2-core machine); both trainers run the same timesteps, interleaved, and the median wall time is
reported. The process figure is the time to spawn one Python process that imports torch and
rlblocks and builds the same agent, which skrl's process-per-agent ParallelTrainer pays per agent
before its first step (and it then copies every transition through pipes and shared memory).

usage: .venv/bin/python benchmarks/parallel_trainer.py [--timesteps 512] [--repeats 3]
       [--output benchmarks/results/parallel_trainer.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from rlblocks.envs.torch.batched import CartPole
from rlblocks.memories.torch import RandomMemory
from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, Model
from rlblocks.trainers.torch import ParallelTrainer, SequentialTrainer

ROOT = Path(__file__).resolve().parents[1]


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space, "cpu")
        CategoricalMixin.__init__(self, role="policy")
        self.net = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space, "cpu")
        DeterministicMixin.__init__(self, role="value")
        self.net = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), {}


def agent(env, num_envs: int) -> PPO:
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": 16,
        "learning_epochs": 4,
        "mini_batches": 4,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    models = {"policy": Policy(env.observation_space, env.action_space)}
    models["value"] = Value(env.observation_space, env.action_space)
    memory = RandomMemory(memory_size=16, num_envs=num_envs)
    return PPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)


def run(trainer_class, timesteps: int) -> float:
    env = wrap_env(CartPole(256, seed=0), verbose=False)
    agents = [agent(env, 128), agent(env, 128)]
    cfg = {"timesteps": timesteps, "disable_progressbar": True}
    trainer = trainer_class(env=env, agents=agents, agents_scope=[128, 128], cfg=cfg)
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started


SPAWN = (
    "import torch; torch.set_num_threads(1); "
    "import benchmarks.parallel_trainer as b; from rlblocks.envs.torch import wrap_env; "
    "from rlblocks.envs.torch.batched import CartPole; b.agent(wrap_env(CartPole(128), verbose=False), 128)"
)


def spawn_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SPAWN], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "benchmarks/results/parallel_trainer.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    times: dict[str, list[float]] = {"sequential": [], "parallel_threads": [], "process_start": []}
    for _ in range(args.repeats):
        times["sequential"].append(run(SequentialTrainer, args.timesteps))
        times["parallel_threads"].append(run(ParallelTrainer, args.timesteps))
        times["process_start"].append(spawn_seconds())
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "timesteps": args.timesteps,
        "median_seconds": medians,
        "threads_speedup": medians["sequential"] / medians["parallel_threads"],
        "all": times,
    }
    for name, value in medians.items():
        print(f"{name:17s} {value:7.2f} s")
    print(f"threads speed-up over sequential: {result['threads_speedup']:.2f}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
