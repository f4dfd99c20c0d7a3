"""PPO on CartPole in 1 and 2 torchrun processes of one thread each: env steps/s, scaling, final return.

For each env kind (gymnasium's sync vector env of CartPole-v1, and the torch-native batched
`rlblocks.envs.torch.batched.CartPole`) and each process count P, the script launches
``torchrun --standalone --nproc_per_node P`` on itself (``--worker``). ``--scaling weak``: every
rank steps its own ``num_envs`` (as users run torchrun: one script per rank), so at the same global
env-step budget P ranks run ``budget / (num_envs * P)`` trainer timesteps each, with P times the
samples per update and P times fewer updates. ``--scaling strong``: the ranks share the ``num_envs``
(``num_envs / P`` each), so every update sees the same number of samples as in one process and the
updates are the same in number (2 ranks x half the batch = 1 process x the whole batch, which
tests/distributed checks to 1e-6); the final return is then comparable at the same budget.
Reported: total env steps/s of all ranks (timed from the first step to the
last), the scaling ratio (P=2 over P=1), and the final return (the recent mean training return,
averaged over the ranks).

usage: .venv/bin/python benchmarks/distributed_scaling.py [--envs gymnasium batched] [--seed 0]
       [--output benchmarks/results/distributed_scaling.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    # env kind: (envs per rank, global env-step budget, rollouts, epochs, mini-batches)
    # (more samples per optimizer step than a one-process CartPole run needs: each step is one
    # gradient all-reduce, about 0.5 ms over gloo on loopback; see benchmarks/README.md)
    "gymnasium": (32, 393_216, 128, 4, 2),
    "batched": (256, 2_097_152, 64, 4, 4),
}


def worker(kind: str, seed: int, output: str, scaling: str = "weak", settings: str = "") -> None:
    """One rank: train PPO, then rank 0 writes the figures to ``output``.

    ``settings``: "envs,budget,rollouts,epochs,mini_batches" replacing ``SETTINGS[kind]`` (empty:
    the defaults).
    """
    import gymnasium
    import torch
    from torch import nn

    from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
    from rlblocks.config import torch as config
    from rlblocks.envs.torch import wrap_env
    from rlblocks.envs.torch.batched import CartPole
    from rlblocks.memories.torch import RandomMemory
    from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, Model
    from rlblocks.trainers.torch import SequentialTrainer
    from rlblocks.utils import distributed, set_seed

    class Policy(CategoricalMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            CategoricalMixin.__init__(self, role="policy")
            self.net = nn.Sequential(
                nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2)
            )

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self, role="value")
            self.net = nn.Sequential(
                nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1)
            )

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    torch.set_num_threads(1)
    rank_seed = set_seed(seed)
    num_envs, budget, rollouts, epochs, mini_batches = (
        tuple(int(value) for value in settings.split(",")) if settings else SETTINGS[kind]
    )
    if scaling == "strong":
        num_envs //= config.world_size
    if kind == "batched":
        env = wrap_env(CartPole(num_envs, seed=rank_seed), verbose=False)
    else:
        vector = gymnasium.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
        vector.reset(seed=rank_seed)
        env = wrap_env(vector, verbose=False)
    timesteps = budget // (num_envs * config.world_size)
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": rollouts,
        "learning_epochs": epochs,
        "mini_batches": mini_batches,
        "learning_rate": 1e-3,
        "discount_factor": 0.99,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    models = {"policy": Policy(env.observation_space, env.action_space)}
    models["value"] = Value(env.observation_space, env.action_space)
    memory = RandomMemory(memory_size=rollouts, num_envs=num_envs)
    agent = PPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)
    trainer = SequentialTrainer(
        env=env, agents=agent, cfg={"timesteps": timesteps, "disable_progressbar": True}
    )
    if config.is_distributed:
        distributed.any_rank(False)  # a barrier: all ranks start timing together
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    mean_return = agent.recent_mean_return or 0.0
    if config.is_distributed:
        seconds = float(distributed.mean_over_ranks(seconds))  # the ranks finish within a step
        mean_return = float(distributed.mean_over_ranks(mean_return))
    if config.rank == 0:
        env_steps = timesteps * num_envs * config.world_size
        figures = {
            "env": kind,
            "processes": config.world_size,
            "envs_per_process": num_envs,
            "timesteps_per_process": timesteps,
            "global_env_steps": env_steps,
            "seconds": seconds,
            "env_steps_per_second": env_steps / seconds,
            "final_return": mean_return,
        }
        Path(output).write_text(json.dumps(figures))


def launch(kind: str, processes: int, seed: int, scaling: str, settings: str = "") -> dict:
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "figures.json")
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={processes}",
            __file__,
            "--worker",
            kind,
            "--seed",
            str(seed),
            "--output",
            output,
            "--scaling",
            scaling,
            "--settings",
            settings,
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        subprocess.run(command, check=True, env=env, cwd=ROOT)
        return json.loads(Path(output).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=sorted(SETTINGS))
    parser.add_argument("--envs", nargs="+", choices=sorted(SETTINGS), default=["gymnasium", "batched"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(ROOT / "benchmarks/results/distributed_scaling.json"))
    parser.add_argument("--scaling", choices=("weak", "strong"), default="weak")
    parser.add_argument(
        "--settings",
        default="",
        help="envs per process,global env steps,rollouts,epochs,mini-batches (one env kind; "
        "default: the SETTINGS table)",
    )
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.seed, args.output, args.scaling, args.settings)
        return
    results = []
    for kind in args.envs:
        runs = {
            processes: launch(kind, processes, args.seed, args.scaling, args.settings) for processes in (1, 2)
        }
        ratio = runs[2]["env_steps_per_second"] / runs[1]["env_steps_per_second"]
        results.append(
            {"env": kind, "scaling": args.scaling, "runs": list(runs.values()), "scaling_ratio": ratio}
        )
        for processes, figures in runs.items():
            print(
                f"{kind:9s} P={processes}: {figures['env_steps_per_second']:8.0f} env steps/s "
                f"({figures['global_env_steps']} steps in {figures['seconds']:.1f} s), "
                f"final return {figures['final_return']:.1f}"
            )
        print(f"{kind:9s} scaling ratio (P=2 / P=1): {ratio:.2f}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
