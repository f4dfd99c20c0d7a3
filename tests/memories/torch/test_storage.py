"""ColumnStorage: grouping by dtype, gathers in names order, growth keeping data."""

import torch

from rlblocks.memories.torch.storage import ColumnStorage


def make_storage():
    storage = ColumnStorage(5, torch.device("cpu"))
    storage.add("states", (3,), torch.float32)
    storage.add("actions", (2,), torch.float32)
    storage.add("done", (1,), torch.bool)
    storage.add("rnn", (2, 2), torch.float32)
    for name in ("states", "actions", "rnn"):
        view = storage.view(name)
        view.copy_(torch.arange(view.numel(), dtype=torch.float32).view(view.shape) + 100 * len(name))
    storage.view("done")[::2] = True
    return storage


def test_flat_tensors_of_one_dtype_share_a_group_and_others_get_their_own():
    storage = make_storage()
    assert sorted(map(str, storage._groups)) == ["('own', 'rnn')", "torch.bool", "torch.float32"]
    assert storage._groups[torch.float32].shape == (5, 5)
    assert storage.view("rnn").shape == (5, 2, 2)


def test_gather_returns_contiguous_rows_in_names_order():
    storage = make_storage()
    rows = torch.tensor([4, 0, 4])
    names = ("rnn", "done", "actions", "states", "states")
    outputs = storage.gather(names, rows)
    for name, output in zip(names, outputs):
        assert output.is_contiguous()
        assert torch.equal(output, storage.view(name)[rows])
    assert outputs[1].dtype == torch.bool


def test_adding_a_tensor_keeps_the_data_of_its_group():
    storage = make_storage()
    before = storage.view("actions").clone()
    storage.add("rewards", (1,), torch.float32)
    assert torch.equal(storage.view("actions"), before)
    assert torch.isnan(storage.view("rewards")).all()
    assert torch.equal(storage.gather(["rewards", "actions"], torch.tensor([1]))[1], before[1:2])
