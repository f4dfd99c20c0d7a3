"""Temporary files left by a killed atomic write are removed when the run directory is opened again."""

import os
import subprocess
import sys

import pytest

from rlblocks.utils import temporary_files
from rlblocks.utils.checkpoint import atomic_save, atomic_write, safe_load
from rlblocks.utils.temporary_files import remove_orphan_temporaries


def dead_pid() -> int:
    """The pid of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def orphan(directory, pid, suffix=".pt"):
    path = directory / f".tmp-rlblocks-{pid}-abc_12xy{suffix}"
    path.write_bytes(b"half a checkpoint")
    return path


def test_atomic_write_names_its_temporary_after_the_process(tmp_path):
    seen = []
    atomic_write(tmp_path / "file.bin", lambda stream: seen.extend(os.listdir(tmp_path)), suffix=".pt")
    (name,) = seen
    assert name.startswith(f".tmp-rlblocks-{os.getpid()}-") and name.endswith(".pt")
    assert os.listdir(tmp_path) == ["file.bin"]


def test_only_orphans_of_dead_writers_are_removed(tmp_path):
    gone = [orphan(tmp_path, dead_pid()), orphan(tmp_path, dead_pid(), ".tmp"), orphan(tmp_path, os.getpid())]
    alive = orphan(tmp_path, os.getppid())  # a live process may still be writing it
    names = (".tmp-abcdefgh.pt", ".tmp-rlblocks-12-short.pt", "tmp-rlblocks-1-abc_12xy.pt", "agent_1.pt")
    others = [tmp_path / name for name in names]
    for path in others:
        path.write_bytes(b"not ours")
    (tmp_path / f".tmp-rlblocks-{dead_pid()}-abcdefgh").mkdir()  # a folder of that name is left alone
    removed = remove_orphan_temporaries(tmp_path, tmp_path / "missing")
    assert sorted(removed) == sorted(str(path) for path in gone)
    assert alive.exists() and all(path.exists() for path in others)


def test_a_write_in_progress_in_this_process_is_not_an_orphan(tmp_path):
    removed = []

    def write(stream):
        removed.extend(remove_orphan_temporaries(tmp_path))
        stream.write(b"data")

    atomic_write(tmp_path / "file.bin", write)
    assert removed == [] and (tmp_path / "file.bin").read_bytes() == b"data"
    assert not temporary_files.being_written


@pytest.mark.skipif(os.name != "posix", reason="kill -9 of a writer")
def test_the_file_a_killed_writer_left_is_removed(tmp_path):
    """A writer killed mid-write leaves its temporary file; the clean-up removes it, the target is intact."""
    atomic_save({"step": 1}, tmp_path / "agent.pt")
    script = (
        "import os, signal, sys\n"
        "from rlblocks.utils.checkpoint import atomic_write\n"
        "def write(stream):\n"
        "    stream.write(b'partial')\n"
        "    stream.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"atomic_write({str(tmp_path / 'agent.pt')!r}, write, suffix='.pt')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd())
    assert result.returncode == -9
    (left,) = [name for name in os.listdir(tmp_path) if name != "agent.pt"]
    assert left.startswith(".tmp-rlblocks-")
    assert remove_orphan_temporaries(tmp_path) == [str(tmp_path / left)]
    assert os.listdir(tmp_path) == ["agent.pt"]
    assert safe_load(tmp_path / "agent.pt") == {"step": 1}  # the previous checkpoint still loads


def test_the_agent_removes_orphans_of_its_experiment_directory_at_init(tmp_path):
    from tests.helpers.off_policy import make_agent

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    orphans = [orphan(run, dead_pid(), ".tmp"), orphan(run / "checkpoints", dead_pid())]
    kept = run / "checkpoints" / "agent_10.pt"
    kept.write_bytes(b"a checkpoint")
    experiment = {"directory": str(tmp_path), "experiment_name": "run", "checkpoint_interval": 10}
    agent, _ = make_agent("dqn", cfg={"experiment": experiment})
    agent.init()
    assert not any(path.exists() for path in orphans) and kept.exists()
