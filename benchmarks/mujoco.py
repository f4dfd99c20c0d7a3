"""A ready MuJoCo config (or any ready config) across seeds: return at budget and env steps/s.

Each seed trains through the CLI's own code path (`rlblocks.cli.train.train`: the ready config of
the pair, one torch thread on CPU) for ``--timesteps`` trainer timesteps, or until ``--seconds`` of
wall clock have passed (the run is then stopped as Ctrl-C stops it, and the steps it reached are
reported). Reported per seed: the env steps reached, the mean return of the last <=100 training
episodes, env steps/s (updates included); then the median and mean over seeds.

The table is written as JSON (``--output``) and, with ``--readme``, into benchmarks/README.md
between ``<!-- mujoco:<pair> -->`` markers, beside the published figures below (SB3 rl-zoo3:
1M steps on the v3 envs, one run, deterministic evaluation; CleanRL ppo_continuous_action: 1M
steps on the v2 envs, mean ± std over seeds, training episodes). The v5 envs run here differ in
details from v2/v3 (contact forces in Ant's observation, fixed model bugs), so the figures set a
scale, not a target.

Run: ``.venv/bin/python benchmarks/mujoco.py --algo sac --env Hopper-v5 [--seeds 3]
[--timesteps 1000000] [--seconds 0] [--readme]`` (needs ``pip install -e ".[mujoco]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import threading

# `python benchmarks/mujoco.py` puts benchmarks/ first on sys.path, where this file would shadow the
# mujoco package gymnasium imports: drop that entry before anything imports mujoco.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]

from rlblocks.cli import config as run_config  # noqa: E402
from rlblocks.cli import train as training  # noqa: E402

PUBLISHED = {
    ("ppo", "HalfCheetah-v5"): "rl-zoo3 5819 ± 664 (v3); CleanRL 1823 ± 928 (v2)",
    ("ppo", "Hopper-v5"): "rl-zoo3 2410 ± 10 (v3); CleanRL 2231 ± 657 (v2)",
    ("ppo", "Walker2d-v5"): "rl-zoo3 3479 ± 822 (v3); CleanRL 3050 ± 1136 (v2)",
    ("ppo", "Ant-v5"): "rl-zoo3 1327 ± 452 (v3)",
    ("sac", "HalfCheetah-v5"): "rl-zoo3 9535 ± 100 (v3)",
    ("sac", "Hopper-v5"): "rl-zoo3 2326 ± 1130 (v3)",
    ("sac", "Walker2d-v5"): "rl-zoo3 3863 ± 254 (v3)",
    ("sac", "Ant-v5"): "rl-zoo3 4616 ± 1354 (v3)",
    ("td3", "HalfCheetah-v5"): "rl-zoo3 9656 ± 970 (v3)",
}
"""Published returns after 1M env steps (see the module docstring for how each was measured)."""

README = os.path.join(_HERE, "README.md")
SECTION = "## MuJoCo v5 (ready configs)"


def run_seed(algo: str, env: str, seed: int, timesteps: int | None, seconds: float) -> dict:
    """One training run of the ready config; stopped by SIGINT after ``seconds`` if > 0."""
    timer = None
    if seconds > 0:
        timer = threading.Timer(seconds, lambda: signal.raise_signal(signal.SIGINT))
        timer.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            result = training.train(
                algo=algo,
                env=env,
                timesteps=timesteps,
                seed=seed,
                device="cpu",
                run_dir=os.path.join(folder, "run"),
                progress_bar=False,
            )
    finally:
        if timer is not None:
            timer.cancel()
    env_steps = (result.timestep - result.start_timestep) * result.config.num_envs
    return {
        "seed": seed,
        "env_steps": env_steps,
        "mean_return": result.mean_return,
        "env_steps_per_s": env_steps / result.wall_seconds if result.wall_seconds > 0 else None,
        "interrupted": result.interrupted,
    }


def table(algo: str, env: str, runs: list[dict], budget: int, seconds: float = 0.0) -> str:
    """The markdown table of the runs and their median/mean, with the published figure."""
    returns = [run["mean_return"] for run in runs if run["mean_return"] is not None]
    rates = [run["env_steps_per_s"] for run in runs if run["env_steps_per_s"] is not None]
    limit = f", each seed stopped after {seconds:g} s of wall clock" if seconds > 0 else ""
    lines = [
        f"`{run_config.pair_name(algo, env)}`, budget {budget:,} env steps per seed{limit}; published "
        f"(1M steps): {PUBLISHED.get((algo, env), 'none recorded')}.",
        "",
        "| seed | env steps reached | mean return (last <=100 episodes) | env steps/s |",
        "|---|---|---|---|",
    ]
    for run in runs:
        value = "n/a" if run["mean_return"] is None else f"{run['mean_return']:.1f}"
        rate = "n/a" if run["env_steps_per_s"] is None else f"{run['env_steps_per_s']:.0f}"
        lines.append(f"| {run['seed']} | {run['env_steps']:,} | {value} | {rate} |")
    if returns:
        lines.append(
            f"| median / mean | | {statistics.median(returns):.1f} / {statistics.mean(returns):.1f} | "
            f"{statistics.median(rates):.0f} |"
        )
    return "\n".join(lines)


def write_readme(pair: str, text: str, path: str = README) -> None:
    """Put ``text`` between the pair's markers in the README (appended to the MuJoCo section if new)."""
    with open(path, encoding="utf-8") as stream:
        content = stream.read()
    begin, end = f"<!-- mujoco:{pair} -->", f"<!-- /mujoco:{pair} -->"
    block = f"{begin}\n{text}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(content):
        content = pattern.sub(lambda _: block, content)
    else:  # at the end of the MuJoCo section (before the next section), or of the file
        start = content.find(SECTION)
        following = content.find("\n## ", start + 1) if start >= 0 else -1
        at = len(content.rstrip()) if following < 0 else following
        content = f"{content[:at].rstrip()}\n\n{block}\n{content[at:]}"
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="sac")
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--timesteps", type=int, default=None, help="trainer timesteps (default: the config's)"
    )
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="stop each seed after this long (0: never)"
    )
    parser.add_argument("--output", default=None)
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args()
    config = run_config.resolve(args.algo, args.env, overrides={"timesteps": args.timesteps})
    budget = config.timesteps * config.num_envs
    runs = [run_seed(args.algo, args.env, seed, args.timesteps, args.seconds) for seed in range(args.seeds)]
    text = table(args.algo, args.env, runs, budget, args.seconds)
    print(text)
    pair = run_config.pair_name(args.algo, args.env)
    output = args.output or os.path.join(os.path.dirname(README), "results", f"mujoco_{pair}.json")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as stream:
        json.dump(
            {"algo": args.algo, "env": args.env, "budget_env_steps": budget, "runs": runs}, stream, indent=2
        )
    if args.readme:
        write_readme(pair, text)


if __name__ == "__main__":
    main()
