"""Re-measure the results the ready configs state, with the commands a user runs.

Every ready config (``rlblocks/cli/configs/<algo>_<EnvId>.yaml``) states its result in one comment
line, in one of two forms:

``# measured: eval 500.0 ± 0.0 (20 episodes, seed 0, rlblocks train defaults)``
    what ``rlblocks train --algo A --env E --seed S --run-dir DIR`` (the file's budget, nothing
    else changed) followed by ``rlblocks eval DIR --episodes N`` prints: the deterministic
    policy's mean ± std return over N episodes of the run's best checkpoint;

``# measured: not reproduced here (<why, and the short budget run that was made>)``
    for the configs whose budget takes hours on a CPU machine (MuJoCo, Atari).

For the classic-control and toy-text configs (gymnasium's ``classic_control`` and ``toy_text``
environments) this script runs exactly those two commands in a subprocess, parses the ``return:``
line of ``rlblocks eval``, and compares it with the statement: they agree when the means differ by
at most `tolerance` (10% of the stated mean, or the stated std if larger, at least 1). The table is
printed, written as JSON (``--output``) and, with ``--readme``, into benchmarks/README.md between
the ``<!-- ready-configs -->`` markers. Wall times depend on the machine's load; only the returns
are compared. The subprocesses import rlblocks from the current directory first, so run the
script from a checkout without uncommitted edits (or from ``git archive HEAD`` unpacked) to
measure committed code.

Run: ``.venv/bin/python benchmarks/ready_configs.py [--only dqn_CartPole-v1 ...] [--readme]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

CONFIGS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rlblocks", "cli", "configs"
)
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ready_configs.json")
MARKER_START, MARKER_END = "<!-- ready-configs:start -->", "<!-- ready-configs:end -->"

NUMBER = r"-?\d+(?:\.\d+)?"
MEASURED = re.compile(
    rf"^# measured: eval (?P<mean>{NUMBER}) ± (?P<std>{NUMBER}) \((?P<episodes>\d+) episodes, "
    r"seed (?P<seed>\d+), rlblocks train defaults\)$"
)
"""A reproducible statement: what ``rlblocks train`` then ``rlblocks eval --episodes N`` print."""
NOT_REPRODUCED = re.compile(r"^# measured: not reproduced here \((?P<why>.+)\)$")
"""A statement for a budget too long to run here (the reason, and the short run made, in parentheses)."""
EVAL_RETURN = re.compile(rf"^return:\s+(?P<mean>{NUMBER}) ± (?P<std>{NUMBER})", re.MULTILINE)
"""The ``return:`` line of ``rlblocks eval``."""
QUICK_ENTRY_POINTS = ("gymnasium.envs.classic_control", "gymnasium.envs.toy_text")
"""Environments whose ready configs train in minutes on a CPU (re-measured by this script)."""


@dataclass
class Claim:
    """A ready config's stated result (``episodes``/``seed`` None for a not-reproduced statement)."""

    stem: str
    algo: str
    env: str
    mean: float | None
    std: float | None
    episodes: int | None
    seed: int | None
    why: str | None = None


def ready_config_stems() -> list[str]:
    """The ready configs of a pair (``<algo>_<EnvId>``; the per-algorithm defaults have no env)."""
    stems = sorted(name.removesuffix(".yaml") for name in os.listdir(CONFIGS) if name.endswith(".yaml"))
    return [stem for stem in stems if _algo_env(_read(stem)) is not None]


def _read(stem: str) -> str:
    with open(os.path.join(CONFIGS, f"{stem}.yaml"), encoding="utf-8") as stream:
        return stream.read()


def _algo_env(text: str) -> tuple[str, str] | None:
    """``(algo, env id)`` from a config file's ``algo:`` and ``env:`` lines, or None."""
    values = {}
    for line in text.splitlines():
        match = re.match(r"^(algo|env):\s*(\S+)\s*$", line)
        if match:
            values[match.group(1)] = match.group(2)
    if "algo" in values and "env" in values:
        return values["algo"], values["env"]
    return None


def parse_claim(stem: str, text: str | None = None) -> Claim:
    """The statement of ``configs/<stem>.yaml`` (or of ``text``, a config file's content).

    Raises:
        ValueError: no ``# measured:`` line, several, or one in neither form (the message shows both).
    """
    text = _read(stem) if text is None else text
    algo_env = _algo_env(text)
    if algo_env is None:
        raise ValueError(f"{stem}.yaml has no algo: and env: lines")
    algo, env = algo_env
    lines = [line for line in text.splitlines() if line.startswith("# measured:")]
    if len(lines) != 1:
        raise ValueError(
            f"{stem}.yaml must state its result in exactly one '# measured:' line, found {len(lines)}; "
            "write e.g. '# measured: eval 500.0 ± 0.0 (20 episodes, seed 0, rlblocks train defaults)'"
        )
    match = MEASURED.match(lines[0])
    if match:
        return Claim(
            stem,
            algo,
            env,
            float(match["mean"]),
            float(match["std"]),
            int(match["episodes"]),
            int(match["seed"]),
        )
    match = NOT_REPRODUCED.match(lines[0])
    if match:
        return Claim(stem, algo, env, None, None, None, None, match["why"])
    raise ValueError(
        f"{stem}.yaml: {lines[0]!r} is in neither form: '# measured: eval <mean> ± <std> (<N> episodes, "
        "seed <S>, rlblocks train defaults)' or '# measured: not reproduced here (<why>)'"
    )


def is_quick(env_id: str) -> bool:
    """Whether ``env_id`` is a gymnasium classic-control or toy-text environment."""
    import gymnasium

    spec = gymnasium.envs.registry.get(env_id)  # None for an env of a package not imported (ale_py)
    entry_point = None if spec is None else spec.entry_point
    return isinstance(entry_point, str) and entry_point.startswith(QUICK_ENTRY_POINTS)


def tolerance(claim: Claim) -> float:
    """How far a re-measured mean may lie from the stated one and still agree."""
    return max(0.1 * abs(claim.mean), claim.std, 1.0)


def measure(claim: Claim, timeout: float) -> dict:
    """``rlblocks train`` then ``rlblocks eval`` as a user types them; the eval's mean and std."""
    command = [sys.executable, "-m", "rlblocks"]
    with tempfile.TemporaryDirectory(prefix=f"ready_{claim.stem}_") as root:
        run_dir = os.path.join(root, "run")
        train = [
            *command,
            "train",
            "--algo",
            claim.algo,
            "--env",
            claim.env,
            "--seed",
            str(claim.seed),
            "--run-dir",
            run_dir,
            "--no-progress",
        ]
        evaluate = [*command, "eval", run_dir, "--episodes", str(claim.episodes)]
        started = time.perf_counter()
        trained = subprocess.run(train, capture_output=True, text=True, timeout=timeout, check=False)
        train_seconds = time.perf_counter() - started
        if trained.returncode != 0:
            return {"error": f"train exited {trained.returncode}: {trained.stderr.strip()[-500:]}"}
        evaluated = subprocess.run(evaluate, capture_output=True, text=True, timeout=timeout, check=False)
        match = EVAL_RETURN.search(evaluated.stdout)
        if evaluated.returncode != 0 or match is None:
            return {"error": f"eval exited {evaluated.returncode}: {evaluated.stderr.strip()[-500:]}"}
    return {"mean": float(match["mean"]), "std": float(match["std"]), "train_seconds": train_seconds}


def table(rows: list[dict]) -> str:
    """The Markdown table of stated against re-measured results."""
    lines = [
        "| config | command | stated | re-measured | agrees |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        claim = row["claim"]
        stated = f"{claim['mean']:.2f} ± {claim['std']:.2f}"
        command = f"`train --seed {claim['seed']}`, `eval --episodes {claim['episodes']}`"
        if "error" in row:
            measured, agrees = row["error"], "no"
        else:
            measured = f"{row['mean']:.2f} ± {row['std']:.2f}"
            agrees = "yes" if row["agrees"] else "**no**"
        lines.append(f"| {claim['stem']} | {command} | {stated} | {measured} | {agrees} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Replace the table between the ready-configs markers of benchmarks/README.md (append if none)."""
    with open(README, encoding="utf-8") as stream:
        content = stream.read()
    block = f"{MARKER_START}\n{text}\n{MARKER_END}"
    if MARKER_START in content and MARKER_END in content:
        before, rest = content.split(MARKER_START, 1)
        content = before + block + rest.split(MARKER_END, 1)[1]
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    with open(README, "w", encoding="utf-8") as stream:
        stream.write(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="config stems, e.g. dqn_CartPole-v1")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per command")
    parser.add_argument("--output", default=RESULTS)
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    arguments = parser.parse_args()
    stems = ready_config_stems()
    if arguments.only:
        unknown = sorted(set(arguments.only) - set(stems))
        if unknown:
            parser.error(f"--only: no ready config {', '.join(unknown)}; ready: {', '.join(stems)}")
        stems = [stem for stem in stems if stem in arguments.only]
    claims = [parse_claim(stem) for stem in stems]
    claims = [claim for claim in claims if claim.episodes is not None and is_quick(claim.env)]
    rows = []
    for claim in claims:
        try:
            result = measure(claim, arguments.timeout)
        except subprocess.TimeoutExpired:
            result = {"error": f"timed out after {arguments.timeout:.0f} s"}
        row = {"claim": asdict(claim), **result}
        if "error" not in result:
            row["agrees"] = abs(result["mean"] - claim.mean) <= tolerance(claim)
        rows.append(row)
        print(json.dumps(row), flush=True)
    text = table(rows)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    previous = {}
    if arguments.only and os.path.exists(arguments.output):
        with open(arguments.output, encoding="utf-8") as stream:
            previous = {row["claim"]["stem"]: row for row in json.load(stream)["rows"]}
    previous.update({row["claim"]["stem"]: row for row in rows})
    merged = [previous[stem] for stem in sorted(previous)]
    report = {"machine": {"platform": platform.platform(), "python": sys.version.split()[0]}, "rows": merged}
    with open(arguments.output, "w", encoding="utf-8") as stream:
        json.dump(report, stream, indent=2)
    if arguments.readme:
        write_readme(table(merged))


if __name__ == "__main__":
    main()
