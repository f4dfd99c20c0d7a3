"""Memory.save / Memory.load: pt and npz round trips, csv export, export on fill, errors."""

import csv
import os

import numpy as np
import pytest
import torch

from rlblocks.memories.torch import Memory, RandomMemory
from rlblocks.utils.checkpoint import CheckpointError


def make_memory(memory_size=3, num_envs=2, steps=2, **kwargs):
    memory = RandomMemory(memory_size, num_envs, device="cpu", **kwargs)
    memory.create_tensor("states", 2)
    memory.create_tensor("terminated", 1, torch.bool)
    memory.create_tensor("rnn", (2, 3), keep_dimensions=True)
    for step in range(steps):
        memory.add_samples(
            states=torch.full((num_envs, 2), float(step)),
            terminated=torch.full((num_envs, 1), step % 2 == 1),
            rnn=torch.full((num_envs, 2, 3), -float(step)),
        )
    return memory


def empty_like(memory):
    return RandomMemory(memory.memory_size, memory.num_envs, device="cpu")


@pytest.mark.parametrize("format", ["pt", "npz", "np"])
def test_round_trip_restores_tensors_dtypes_and_position(tmp_path, format):
    memory = make_memory(steps=2)
    memory.add_samples(
        states=torch.ones(1, 2), terminated=torch.ones(1, 1, dtype=torch.bool), rnn=torch.ones(1, 2, 3)
    )
    path = memory.save(str(tmp_path), format=format)
    assert path.endswith({"np": ".npz"}.get(format, f".{format}"))
    assert os.path.dirname(path) == str(tmp_path / "memories")

    loaded = empty_like(memory)
    loaded.load(path)
    for name in memory.tensors:
        assert loaded.tensors[name].dtype == memory.tensors[name].dtype
        assert loaded.tensors[name].shape == memory.tensors[name].shape
        assert torch.equal(loaded.tensors[name].nan_to_num(7.0), memory.tensors[name].nan_to_num(7.0))
    assert (loaded.memory_index, loaded.env_index, loaded.filled) == (2, 1, False)
    assert len(loaded) == len(memory) == 5


def test_loaded_data_is_what_sampling_reads(tmp_path):
    """skrl 0.10 only rebinds `_tensor_<name>`; sampling kept reading the old tensors (bug #23)."""
    path = make_memory(steps=3).save(str(tmp_path))
    loaded = make_memory(steps=0)
    loaded.load(path)
    [[states, rnn]] = loaded.sample(["states", "rnn"], batch_size=50)
    assert set(states[:, 0].tolist()) == {0.0, 1.0, 2.0}
    assert torch.equal(rnn, -states[:, :1, None].expand(-1, 2, 3))


def test_loading_into_a_memory_of_another_size_names_the_fix(tmp_path):
    path = make_memory(memory_size=3).save(str(tmp_path))
    with pytest.raises(ValueError, match=r"create the memory with memory_size=3, num_envs=2"):
        RandomMemory(4, 2, device="cpu").load(path)


def test_loading_into_a_tensor_of_another_width_is_refused(tmp_path):
    path = make_memory().save(str(tmp_path))
    other = empty_like(make_memory())
    other.create_tensor("states", 5)
    with pytest.raises(
        ValueError, match=r'"states" holds samples of shape \(2,\), but this memory declares \(5,\)'
    ):
        other.load(path)


def test_a_file_without_position_loads_as_filled(tmp_path):
    """skrl exports are written when the memory fills up and hold only the tensors."""
    path = tmp_path / "skrl.pt"
    torch.save({"states": torch.arange(12.0).view(3, 2, 2)}, path)
    memory = RandomMemory(3, 2, device="cpu")
    memory.load(str(path))
    assert (memory.memory_index, memory.env_index, memory.filled, len(memory)) == (0, 0, True, 6)
    assert memory.tensors_view["states"][5].tolist() == [10.0, 11.0]


def test_tensors_missing_from_the_file_are_reported(tmp_path, caplog):
    path = tmp_path / "partial.npz"
    np.savez(path, states=np.zeros((3, 2, 2), dtype=np.float32))
    memory = make_memory()
    memory.load(str(path))
    assert "has no data for ['rnn', 'terminated']" in caplog.text


def test_csv_export_holds_the_valid_rows(tmp_path):
    memory = make_memory(steps=2)
    path = memory.save(str(tmp_path), format="csv")
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    header = ["rnn.0", "rnn.1", "rnn.2", "rnn.3", "rnn.4", "rnn.5", "states.0", "states.1", "terminated.0"]
    assert rows[0] == header
    assert len(rows) == 1 + 4
    assert rows[3] == ["-1.0"] * 6 + ["1.0", "1.0", "True"]


def test_csv_files_cannot_be_loaded(tmp_path):
    path = make_memory().save(str(tmp_path), format="csv")
    with pytest.raises(ValueError, match="csv is an export-only format"):
        make_memory().load(path)


def test_unknown_extension_and_format_are_refused(tmp_path):
    with pytest.raises(
        ValueError, match=r"Unsupported format: 'memory.txt'; memory files end in .pt or .npz"
    ):
        make_memory().load("memory.txt")
    with pytest.raises(ValueError, match=r"Export format not supported \('npy'\) \(did you mean \"npz\"\?\)"):
        make_memory().save(str(tmp_path), format="npy")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"states": torch.zeros(3, 2, 2), "hook": object()}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        make_memory().load(str(path))
    np.savez(tmp_path / "evil.npz", states=np.array([object()], dtype=object))
    with pytest.raises(CheckpointError, match="refused to load"):
        make_memory().load(str(tmp_path / "evil.npz"))


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        make_memory().load(str(tmp_path / "absent.npz"))


def test_export_writes_a_file_each_time_the_memory_fills(tmp_path):
    memory = make_memory(
        memory_size=2, steps=0, export=True, export_format="np", export_directory=str(tmp_path)
    )
    for _ in range(5):
        memory.add_samples(states=torch.zeros(2, 2))
    written = sorted(os.listdir(tmp_path / "memories"))
    assert len(written) == 2
    assert all(name.endswith(".npz") for name in written)


def test_save_leaves_no_temporary_file(tmp_path):
    memory = Memory(2, device="cpu")
    memory.create_tensor("states", 1)
    for format in ("pt", "npz", "csv"):
        memory.save(str(tmp_path), format=format)
    assert not [name for name in os.listdir(tmp_path / "memories") if name.startswith(".tmp")]
