"""MemoryFileIterator and TensorboardFileIterator on files rlblocks writes (memories, SummaryWriter)."""

import os

import numpy as np
import pytest
import torch

from rlblocks.memories.torch import RandomMemory
from rlblocks.utils.postprocessing import MemoryFileIterator, TensorboardFileIterator


def _memory():
    """4 steps x 2 envs: states (2,) = [t, env], actions (1,) = 10 t + env, dones bool (t == 3)."""
    memory = RandomMemory(memory_size=4, num_envs=2)
    memory.create_tensor("states", 2)
    memory.create_tensor("actions", 1)
    memory.create_tensor("dones", 1, dtype=torch.bool)
    for t in range(4):
        env = torch.arange(2.0)[:, None]
        memory.add_samples(
            states=torch.cat([torch.full((2, 1), float(t)), env], dim=1),
            actions=10 * t + env,
            dones=torch.full((2, 1), t == 3),
        )
    return memory


def test_memory_files_round_trip_in_each_format_in_sorted_order(tmp_path):
    memory = _memory()
    paths = {format: memory.save(str(tmp_path), format) for format in ("pt", "npz", "csv")}
    pattern = os.path.join(str(tmp_path), "memories", "*")
    names = [name for name, _ in MemoryFileIterator(pattern)]
    assert names == sorted(os.path.basename(path) for path in paths.values())

    data = dict(MemoryFileIterator(pattern))
    pt = data[os.path.basename(paths["pt"])]
    assert sorted(pt) == ["actions", "dones", "states"]  # rlblocks' buffer position left out
    assert pt["states"].shape == (4, 2, 2) and torch.equal(pt["states"], memory.tensors["states"])
    assert pt["dones"].dtype == torch.bool

    npz = data[os.path.basename(paths["npz"])]
    assert isinstance(npz["actions"], np.ndarray)
    np.testing.assert_array_equal(npz["actions"], memory.tensors["actions"].numpy())

    csv_data = data[os.path.basename(paths["csv"])]
    assert sorted(csv_data) == ["actions", "dones", "states"]
    assert len(csv_data["states"]) == 8  # memory_size * num_envs rows, time-major
    assert csv_data["states"][:3] == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    assert csv_data["actions"][7] == [31.0]
    assert csv_data["dones"][0] == [False] and csv_data["dones"][7] == [True]


def test_memory_iterator_is_its_own_iterator_and_stops(tmp_path):
    _memory().save(str(tmp_path), "pt")
    iterator = MemoryFileIterator(os.path.join(str(tmp_path), "memories", "*.pt"))
    assert iter(iterator) is iterator
    next(iterator)
    with pytest.raises(StopIteration):
        next(iterator)


def test_unsupported_files_and_bad_csv_headers_are_value_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"Unsupported format for file: .*notes.txt"):
        next(MemoryFileIterator(str(tmp_path / "*.txt")))
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"not a memory csv file: its header \['a', 'b'\]"):
        next(MemoryFileIterator(str(tmp_path / "*.csv")))


def test_tensorboard_files_yield_the_directory_and_the_asked_tags(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    for run, scale in (("run_a", 1.0), ("run_b", 2.0)):
        writer = SummaryWriter(log_dir=str(tmp_path / run))
        for step in (10, 20, 30):
            writer.add_scalar("Reward / Total reward (mean)", scale * step, step)
            writer.add_scalar("Loss / Policy loss", -step, step)
        writer.close()
    iterator = TensorboardFileIterator(
        str(tmp_path / "*" / "events.out.tfevents.*"), "Reward / Total reward (mean)"
    )
    results = list(iterator)
    assert [name for name, _ in results] == ["run_a", "run_b"]
    assert results[0][1] == {"Reward / Total reward (mean)": [[10, 10.0], [20, 20.0], [30, 30.0]]}
    assert results[1][1]["Reward / Total reward (mean)"][2] == [30, 60.0]
    both = next(TensorboardFileIterator(str(tmp_path / "run_a" / "*"), ["Loss / Policy loss", "absent"]))
    assert both[1] == {"Loss / Policy loss": [[10, -10.0], [20, -20.0], [30, -30.0]]}
