"""Launching the scripts of tests/distributed/scripts under torchrun, with a hard time limit.

Each launch runs in its own process session, killed as a whole when the limit passes, so a
hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]


@dataclass
class Finished:
    """A launch's exit status, output and wall time."""

    returncode: int
    output: str
    seconds: float


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    """The child environment: the repository importable, one thread per rank, no torchrun variables."""
    env = {key: value for key, value in os.environ.items() if key not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **extra)
    return env


def start(command: list[str], **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait(process: subprocess.Popen, limit: float, started: float) -> Finished:
    """Wait at most until ``started + limit``; on a timeout kill the whole session and return code -9."""
    try:
        output, _ = process.communicate(timeout=max(1.0, started + limit - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return Finished(-9, output + "\n[killed: time limit]", time.monotonic() - started)
    return Finished(process.returncode, output, time.monotonic() - started)


def torchrun(script: str, *args: str, nproc: int = 2, limit: float = 60.0, **extra: str) -> Finished:
    """``torchrun --standalone --nproc_per_node nproc scripts/<script> args`` within ``limit`` seconds."""
    command = [*TORCHRUN, "--standalone", f"--nproc_per_node={nproc}", str(SCRIPTS / script), *args]
    started = time.monotonic()
    return wait(start(command, **extra), limit, started)


def single(script: str, *args: str, limit: float = 60.0) -> Finished:
    """The script in one plain process (no torchrun), within ``limit`` seconds."""
    started = time.monotonic()
    return wait(start([sys.executable, str(SCRIPTS / script), *args]), limit, started)


def two_nodes(script: str, *args: str, limit: float = 60.0) -> list[Finished]:
    """Two torchrun "nodes" of one process each on localhost, ranks assigned by the c10d rendezvous."""
    endpoint = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    processes = [
        start(
            [
                *TORCHRUN,
                "--nnodes=2",
                "--nproc_per_node=1",
                f"--node_rank={node}",
                "--rdzv_backend=c10d",
                f"--rdzv_endpoint={endpoint}",
                "--rdzv_id=rlblocks-test",
                str(SCRIPTS / script),
                *args,
            ]
        )
        for node in (0, 1)
    ]
    return [wait(process, limit, started) for process in processes]


def check(finished: Finished) -> None:
    """Fail with the launch's output unless it exited with 0."""
    output = (
        finished.output
        if len(finished.output) < 9000
        else finished.output[:3000] + "\n...\n" + finished.output[-6000:]
    )
    assert finished.returncode == 0, f"exit status {finished.returncode}:\n{output}"
