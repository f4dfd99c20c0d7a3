"""`TabularMixin`: greedy actions from a Q-table, the table's state dict, save and load."""

import gymnasium
import pytest
import torch
from torch import nn

from rlblocks.models.torch import Model, TabularMixin
from rlblocks.utils.checkpoint import CheckpointError


class GreedyTable(TabularMixin, Model):
    def __init__(self, num_envs=2, num_observations=5, num_actions=3):
        Model.__init__(
            self, gymnasium.spaces.Discrete(num_observations), gymnasium.spaces.Discrete(num_actions), "cpu"
        )
        TabularMixin.__init__(self, num_envs=num_envs)
        self.q_table = torch.zeros((num_envs, self.num_observations, self.num_actions))

    def compute(self, inputs, role=""):
        rows = self.q_table[torch.arange(self.num_envs).view(-1, 1), inputs["states"]]
        return torch.argmax(rows, dim=-1), {}


def filled_table():
    model = GreedyTable()
    model.q_table[0, 1, 2] = 1.0  # env 0, state 1: action 2
    model.q_table[1, 4, 1] = 1.0  # env 1, state 4: action 1
    return model


def test_act_returns_greedy_int64_actions_n_by_1_and_no_log_prob():
    actions, log_prob, outputs = filled_table().act({"states": torch.tensor([[1], [4]])})
    assert torch.equal(actions, torch.tensor([[2], [1]]))
    assert log_prob is None and outputs == {}


def test_num_envs_and_table_are_set():
    model = filled_table()
    assert model.num_envs == 2
    assert model.table() is model.q_table


def test_table_finds_a_lone_three_dimensional_tensor_under_another_name():
    class Named(TabularMixin, Model):
        def __init__(self):
            Model.__init__(self, 4, 2, "cpu")
            TabularMixin.__init__(self)
            self.values = torch.ones(1, 4, 2)
            self.counts = torch.zeros(4)

    model = Named()
    assert model.table() is model.values


def test_table_without_a_candidate_raises_attribute_error():
    class Empty(TabularMixin, Model):
        def __init__(self):
            Model.__init__(self, 4, 2, "cpu")
            TabularMixin.__init__(self)

    with pytest.raises(AttributeError, match=r"Empty has no table: name it self.q_table"):
        Empty().table()


def test_tensor_names_and_repr_list_the_tensor_attributes():
    model = GreedyTable()
    assert model._get_tensor_names() == ["q_table"]
    assert repr(model) == "GreedyTable(\n  (q_table): Tensor(shape=[2, 5, 3])\n)"


def test_state_dict_is_a_plain_dict_with_the_table():
    state_dict = filled_table().state_dict()
    assert type(state_dict) is dict and list(state_dict) == ["q_table"]
    assert state_dict["q_table"][0, 1, 2] == 1.0


def test_load_state_dict_replaces_the_table():
    model = GreedyTable()
    model.load_state_dict(filled_table().state_dict())
    assert model.q_table[1, 4, 1] == 1.0


@pytest.mark.parametrize(
    "table", [torch.zeros(2, 5, 4), torch.zeros(2, 5, 3, dtype=torch.float64)], ids=["shape", "dtype"]
)
def test_load_state_dict_with_another_shape_or_dtype_raises(table):
    with pytest.raises(ValueError, match=r"Tensor shape \(.*\) or dtype \(.*\) mismatch for 'q_table'"):
        GreedyTable().load_state_dict({"q_table": table})


def test_load_state_dict_with_an_unknown_key_raises():
    with pytest.raises(ValueError, match=r"^table is not a tensor of GreedyTable"):
        GreedyTable().load_state_dict({"table": torch.zeros(2, 5, 3)})


def test_tables_and_sub_module_parameters_load_together():
    class WithNet(GreedyTable):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 2))

    source, target = WithNet(), WithNet()
    source.q_table.fill_(3.0)
    state_dict = source.state_dict()
    assert set(state_dict) == {"q_table", "net.0.weight", "net.0.bias"}
    target.load_state_dict(state_dict)
    assert torch.equal(target.q_table, source.q_table)
    assert torch.equal(target.net[0].weight, source.net[0].weight)


def test_save_then_load_round_trip_and_eval_mode(tmp_path):
    path = str(tmp_path / "table.pt")
    filled_table().save(path)
    model = GreedyTable()
    model.load(path)
    assert torch.equal(model.q_table, filled_table().q_table)
    assert not model.training
    assert torch.equal(model.act({"states": torch.tensor([[1], [4]])})[0], torch.tensor([[2], [1]]))


def test_save_honours_the_state_dict_argument(tmp_path):
    path = str(tmp_path / "table.pt")
    model = filled_table()
    old = {"q_table": model.q_table.clone()}
    model.q_table.fill_(9.0)
    model.save(path, old)
    model.load(path)
    assert model.q_table.max() == 1.0


def test_load_of_a_missing_file_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        GreedyTable().load(str(tmp_path / "absent.pt"))


def test_to_moves_the_table():
    model = GreedyTable().to(torch.float64)
    assert model.q_table.dtype == torch.float64


def test_random_act_gives_n_by_1_int64_actions():
    actions, _, _ = GreedyTable().random_act({"states": torch.tensor([[1], [4]])})
    assert actions.shape == (2, 1) and actions.dtype == torch.int64
