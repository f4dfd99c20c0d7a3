"""Memory: declaring tensors, the circular-buffer index arithmetic, writing, sample_all, sample_by_index."""

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.memories.torch import Memory


def make_memory(memory_size=4, num_envs=3, **tensors):
    memory = Memory(memory_size, num_envs, device="cpu")
    for name, size in (tensors or {"states": 2}).items():
        memory.create_tensor(name, size)
    return memory


def position(memory):
    return memory.memory_index, memory.env_index, memory.filled, len(memory)


# -- constructor and create_tensor ------------------------------------------------------------


def test_storage_shapes_and_flat_views_are_time_major():
    memory = make_memory(memory_size=4, num_envs=3, states=2)
    assert memory.tensors["states"].shape == (4, 3, 2)
    assert memory.tensors_view["states"].shape == (12, 2)
    assert memory._tensor_states is memory.tensors["states"]
    memory.tensors["states"][2, 1] = torch.tensor([7.0, 8.0])
    assert memory.tensors_view["states"][2 * 3 + 1].tolist() == [7.0, 8.0]


def test_new_float_tensors_start_nan_and_others_zero():
    memory = make_memory(states=2)
    memory.create_tensor("terminated", 1, torch.bool)
    memory.create_tensor("actions", 1, torch.int64)
    assert torch.isnan(memory.tensors["states"]).all()
    assert not memory.tensors["terminated"].any()
    assert (memory.tensors["actions"] == 0).all()


def test_size_from_spaces_uses_the_flat_row_width():
    memory = Memory(2, 1, device="cpu")
    memory.create_tensor("box", gymnasium.spaces.Box(-1, 1, (3, 2)))
    memory.create_tensor("discrete", gymnasium.spaces.Discrete(5))
    memory.create_tensor("shape", (2, 3))
    memory.create_tensor("kept", gymnasium.spaces.Box(-1, 1, (3, 2)), keep_dimensions=True)
    assert memory.tensors["box"].shape == (2, 1, 6)
    assert memory.tensors["discrete"].shape == (2, 1, 1)
    assert memory.tensors["shape"].shape == (2, 1, 6)
    assert memory.tensors["kept"].shape == (2, 1, 3, 2)
    assert memory.tensors_view["kept"].shape == (2, 3, 2)


def test_recreating_a_tensor_with_the_same_size_returns_false():
    memory = make_memory(states=2)
    assert memory.create_tensor("states", 2) is False
    assert memory.create_tensor("states", 2, torch.float32) is False


def test_recreating_a_keep_dimensions_tensor_with_the_same_shape_returns_false():
    """skrl 0.10 compares an int with a tuple here and always raises (bug #23)."""
    memory = make_memory()
    assert memory.create_tensor("rnn_policy_0", (1, 8), keep_dimensions=True) is True
    assert memory.create_tensor("rnn_policy_0", (1, 8), keep_dimensions=True) is False


def test_recreating_with_another_size_or_dtype_names_both():
    memory = make_memory(states=2)
    with pytest.raises(ValueError, match=r'"states" \(3,\) doesn\'t match the existing one \(2,\)'):
        memory.create_tensor("states", 3)
    with pytest.raises(ValueError, match=r"torch.int64.*torch.float32"):
        memory.create_tensor("states", 2, torch.int64)


def test_creating_a_tensor_keeps_the_data_of_existing_ones():
    memory = make_memory(states=2)
    memory.add_samples(states=torch.ones(3, 2))
    memory.create_tensor("next_states", 2)
    assert memory.tensors["states"][0].tolist() == [[1.0, 1.0]] * 3
    assert torch.isnan(memory.tensors["next_states"]).all()


def test_keep_dimensions_with_a_dict_space_is_refused():
    space = gymnasium.spaces.Dict({"a": gymnasium.spaces.Box(-1, 1, (2,))})
    with pytest.raises(ValueError, match="keep_dimensions=True cannot be used with Dict"):
        make_memory().create_tensor("obs", space, keep_dimensions=True)


@pytest.mark.parametrize("export_format", ["pt", "npz", "np", "csv"])
def test_export_formats_accepted(export_format):
    memory = Memory(2, export_format=export_format, device="cpu")
    assert memory.export_format == {"np": "npz"}.get(export_format, export_format)


def test_unknown_export_format_suggests_the_nearest():
    with pytest.raises(ValueError, match=r"Export format not supported \('pth'\) \(did you mean \"pt\"\?\)"):
        Memory(2, export_format="pth")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_sizes_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match=f"memory_size must be a positive integer, got {bad!r}"):
        Memory(bad)


def test_unknown_tensor_name_suggests_the_nearest():
    memory = make_memory(states=2)
    with pytest.raises(KeyError, match='did you mean "states"'):
        memory.get_tensor_by_name("state")
    with pytest.raises(KeyError, match='did you mean "states"'):
        memory.sample_all(["state"])


def test_tensor_accessors():
    memory = make_memory(states=2, actions=1)
    assert memory.get_tensor_names() == ["actions", "states"]
    assert memory.get_tensor_by_name("states").shape == (4, 3, 2)
    assert memory.get_tensor_by_name("states", keepdim=False).shape == (12, 2)
    memory.set_tensor_by_name("states", torch.arange(24.0).view(4, 3, 2))
    assert memory.tensors_view["states"][5].tolist() == [10.0, 11.0]


# -- add_samples: index arithmetic (spec section 4) -------------------------------------------


def test_full_rows_advance_memory_index_and_wrap_setting_filled():
    memory = make_memory(memory_size=3, num_envs=2)
    expected = [(1, 0, False, 2), (2, 0, False, 4), (0, 0, True, 6), (1, 0, True, 6)]
    for step, after in enumerate(expected):
        memory.add_samples(states=torch.full((2, 2), float(step)))
        assert position(memory) == after
    # step 3 overwrote time slot 0
    assert memory.tensors["states"][:, :, 0].tolist() == [[3.0, 3.0], [1.0, 1.0], [2.0, 2.0]]


def test_partial_env_slices_advance_env_index_then_memory_index():
    memory = make_memory(memory_size=2, num_envs=3)
    memory.add_samples(states=torch.full((2, 2), 1.0))
    assert position(memory) == (0, 2, False, 2)
    memory.add_samples(states=torch.full((1, 2), 2.0))
    assert position(memory) == (1, 0, False, 3)
    assert memory.tensors["states"][0, :, 0].tolist() == [1.0, 1.0, 2.0]


def test_partial_env_slice_past_num_envs_is_refused():
    memory = make_memory(memory_size=2, num_envs=3)
    memory.add_samples(states=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="2 environments' samples at env_index 2, past num_envs=3"):
        memory.add_samples(states=torch.zeros(2, 2))


def test_one_dimensional_samples_fill_one_environment_at_a_time():
    memory = make_memory(memory_size=2, num_envs=2)
    expected = [(0, 1, False, 1), (1, 0, False, 2), (1, 1, False, 3), (0, 0, True, 4), (0, 1, True, 4)]
    for step, after in enumerate(expected):
        memory.add_samples(states=torch.full((2,), float(step)))
        assert position(memory) == after
    assert memory.tensors["states"][:, :, 0].tolist() == [[4.0, 1.0], [2.0, 3.0]]


def test_single_env_multi_sample_wraps_and_sets_filled():
    """skrl 0.10 writes [4, 5, 2, 3] with memory_index 2 but leaves filled False (bug #23)."""
    memory = make_memory(memory_size=4, num_envs=1, states=1)
    memory.add_samples(states=torch.arange(6.0).view(6, 1))
    assert memory.tensors_view["states"].view(-1).tolist() == [4.0, 5.0, 2.0, 3.0]
    assert position(memory) == (2, 0, True, 4)


def test_single_env_multi_sample_longer_than_the_memory_keeps_the_latest():
    memory = make_memory(memory_size=4, num_envs=1, states=1)
    memory.add_samples(states=torch.tensor([[10.0]]))
    memory.add_samples(states=torch.arange(9.0).view(9, 1))
    # samples 0..8 go to slots 1, 2, 3, 0, 1, ...: the last four are 5, 6, 7, 8 at slots 2, 3, 0, 1
    assert memory.tensors_view["states"].view(-1).tolist() == [7.0, 8.0, 5.0, 6.0]
    assert position(memory) == (2, 0, True, 4)


def test_single_env_multi_sample_without_wrap():
    memory = make_memory(memory_size=4, num_envs=1, states=1)
    memory.add_samples(states=torch.tensor([[1.0], [2.0]]))
    assert position(memory) == (2, 0, False, 2)


def test_unknown_names_are_skipped_and_known_ones_written():
    memory = make_memory(num_envs=2, states=2)
    memory.add_samples(states=torch.ones(2, 2), log_prob=torch.ones(2, 1))
    assert memory.tensors["states"][0].tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_reference_is_states_even_when_not_first():
    memory = make_memory(num_envs=2, states=2, rewards=1)
    memory.add_samples(rewards=torch.ones(2, 1), states=torch.ones(2, 2))
    assert position(memory) == (1, 0, False, 2)


def test_keep_dimensions_tensors_are_written_per_row():
    memory = make_memory(num_envs=2, states=2)
    memory.create_tensor("rnn", (3, 4), keep_dimensions=True)
    rnn = torch.arange(24.0).view(2, 3, 4)
    memory.add_samples(states=torch.zeros(2, 2), rnn=rnn)
    assert torch.equal(memory.tensors["rnn"][0], rnn)


def test_images_kept_as_the_reference_count_environments_by_their_own_rank():
    memory = Memory(2, 2, device="cpu")
    memory.create_tensor("states", (3, 4, 4), keep_dimensions=True)
    memory.add_samples(states=torch.ones(2, 3, 4, 4))
    assert position(memory) == (1, 0, False, 2)
    memory.add_samples(states=torch.ones(3, 4, 4))
    assert position(memory) == (1, 1, False, 3)


def test_flat_rewards_are_reshaped_to_the_column():
    memory = make_memory(num_envs=3, states=2, rewards=1)
    memory.add_samples(states=torch.zeros(3, 2), rewards=torch.tensor([1.0, 2.0, 3.0]))
    assert memory.tensors["rewards"][0].tolist() == [[1.0], [2.0], [3.0]]


def test_samples_requiring_grad_do_not_attach_the_buffer_to_a_graph():
    memory = make_memory(num_envs=2, states=2)
    states = torch.ones(2, 2, requires_grad=True) * 2
    memory.add_samples(states=states)
    assert not memory.tensors["states"].requires_grad
    assert memory.tensors["states"].grad_fn is None


def test_a_time_step_filling_a_group_lands_in_each_tensor_whatever_the_argument_order():
    """Tensors filling a dtype group are written with one cat; the result is the per-name one."""
    memory = make_memory(num_envs=2, states=2, actions=3, rewards=1)
    memory.create_tensor("terminated", 1, torch.bool)
    rewards, actions = torch.tensor([[1.0], [2.0]]), torch.arange(6, dtype=torch.int64).view(2, 3)
    states = torch.tensor([[3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    memory.add_samples(
        terminated=torch.tensor([[True], [False]]), rewards=rewards, actions=actions, states=states
    )
    assert memory.tensors["states"][0].tolist() == [[3.0, 4.0], [5.0, 6.0]]
    assert memory.tensors["actions"][0].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert memory.tensors["rewards"][0].tolist() == [[1.0], [2.0]]
    assert memory.tensors["terminated"][0].tolist() == [[True], [False]]
    assert torch.isnan(memory.tensors["states"][1:]).all()


def test_a_group_write_falls_back_per_name_for_grad_and_uncastable_inputs():
    memory = make_memory(num_envs=2, states=2, rewards=1)
    memory.create_tensor("terminated", 1, torch.bool)
    memory.create_tensor("truncated", 1, torch.bool)
    flags = {"terminated": torch.tensor([[1.0], [0.0]]), "truncated": torch.tensor([[0.0], [2.0]])}
    memory.add_samples(states=torch.ones(2, 2, requires_grad=True) * 2, rewards=torch.ones(2, 1), **flags)
    assert memory.tensors["states"].grad_fn is None
    assert memory.tensors["states"][0].tolist() == [[2.0, 2.0], [2.0, 2.0]]
    assert memory.tensors["terminated"][0].tolist() == [[True], [False]]
    assert memory.tensors["truncated"][0].tolist() == [[False], [True]]


def test_add_samples_without_arguments_explains():
    with pytest.raises(ValueError, match="No samples to be recorded in memory. Pass samples as key-value"):
        make_memory().add_samples()


def test_wrong_reference_rank_names_expected_and_received():
    memory = make_memory(num_envs=3, states=2)
    with pytest.raises(
        ValueError, match=r'"states" of shape \(num_envs, \*sample_shape\) = \(3, 2\).*got \(3, 1, 2\)'
    ):
        memory.add_samples(states=torch.zeros(3, 1, 2))


def test_wrong_sample_width_names_expected_and_received():
    """A (3, 1) tensor would silently broadcast into (3, 2) with a bare copy_."""
    memory = make_memory(num_envs=3, states=2, rewards=1)
    with pytest.raises(
        ValueError, match=r'"states" should be \(3, 2\) for this add_samples call, got \(3, 1\)'
    ):
        memory.add_samples(states=torch.zeros(3, 1))
    with pytest.raises(
        ValueError, match=r'"rewards" should be \(3, 1\) for this add_samples call, got \(3, 2\)'
    ):
        memory.add_samples(states=torch.zeros(3, 2), rewards=torch.zeros(3, 2))


def test_more_envs_than_num_envs_is_refused():
    memory = make_memory(num_envs=3, states=2)
    with pytest.raises(ValueError, match=r"got \(4, 2\)"):
        memory.add_samples(states=torch.zeros(4, 2))


def test_reset_keeps_data_and_zeroes_position():
    memory = make_memory(memory_size=2, num_envs=1, states=1)
    memory.add_samples(states=torch.ones(3, 1))
    memory.reset()
    assert position(memory) == (0, 0, False, 0)
    assert memory.tensors_view["states"].view(-1).tolist() == [1.0, 1.0]


def test_share_memory_keeps_views_aliasing_the_storage():
    memory = make_memory(num_envs=2, states=2)
    memory.share_memory()
    memory.add_samples(states=torch.ones(2, 2))
    assert memory.tensors["states"].is_shared()
    assert memory.tensors_view["states"][:2].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    memory.create_tensor("later", 1)
    assert memory.tensors["later"].is_shared()


# -- sample_all -----------------------------------------------------------------------------


def filled_memory(memory_size=4, num_envs=2):
    """states[t, e] = 10 * t + e, so a value names its (time step, env)."""
    memory = make_memory(memory_size, num_envs, states=1, actions=1)
    for step in range(memory_size):
        values = 10.0 * step + torch.arange(num_envs, dtype=torch.float32).view(-1, 1)
        memory.add_samples(states=values, actions=-values)
    return memory


def test_sample_all_returns_every_row_time_major():
    memory = filled_memory()
    [[states, actions]] = memory.sample_all(["states", "actions"])
    assert states.view(-1).tolist() == [0.0, 1.0, 10.0, 11.0, 20.0, 21.0, 30.0, 31.0]
    assert torch.equal(actions, -states)


def test_sample_all_yields_exactly_mini_batches_batches():
    """skrl 0.10 gives 4 batches of 2 for 8 rows and 3 mini-batches (bug #23)."""
    batches = filled_memory().sample_all(["states"], mini_batches=3)
    assert [batch[0].view(-1).tolist() for batch in batches] == [
        [0.0, 1.0],
        [10.0, 11.0, 20.0],
        [21.0, 30.0, 31.0],
    ]


def test_sample_all_covers_every_row_once_per_epoch():
    memory = filled_memory(memory_size=7, num_envs=3)
    for mini_batches in (1, 2, 4, 5, 21):
        rows = torch.cat([batch[0] for batch in memory.sample_all(["states"], mini_batches)]).view(-1)
        assert sorted(rows.tolist()) == sorted(memory.tensors_view["states"].view(-1).tolist())


def test_sample_all_with_more_batches_than_rows_is_refused():
    with pytest.raises(ValueError, match="cannot split 8 rows into 9 mini-batches; use mini_batches <= 8"):
        filled_memory().sample_all(["states"], mini_batches=9)


def test_sample_all_sequences_are_consecutive_steps_of_one_env():
    memory = filled_memory(memory_size=4, num_envs=2)
    batches = memory.sample_all(["states"], mini_batches=2, sequence_length=2)
    assert [batch[0].view(-1).tolist() for batch in batches] == [
        [0.0, 10.0, 20.0, 30.0],
        [1.0, 11.0, 21.0, 31.0],
    ]
    assert memory.all_sequence_indexes.tolist() == [0, 2, 4, 6, 1, 3, 5, 7]


def test_sample_all_sequences_split_in_whole_sequences():
    memory = filled_memory(memory_size=4, num_envs=2)
    batches = memory.sample_all(["states"], mini_batches=3, sequence_length=2)
    assert [len(batch[0]) for batch in batches] == [2, 2, 4]


def test_sample_all_sequences_spanning_environments_warn(caplog):
    memory = filled_memory(memory_size=3, num_envs=2)
    memory.sample_all(["states"], sequence_length=2)
    assert "memory_size (3) is not a multiple of sequence_length (2)" in caplog.text


def test_sampled_tensors_are_contiguous_copies():
    memory = filled_memory()
    [[states, actions]] = memory.sample_all(["states", "actions"])
    assert states.is_contiguous() and actions.is_contiguous()
    states.zero_()
    assert memory.tensors_view["states"][1].item() == 1.0


# -- sample_by_index ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [torch.tensor, np.array, list])
def test_sample_by_index_accepts_tensors_arrays_and_lists(kind):
    memory = filled_memory()
    [[states]] = memory.sample_by_index(["states"], kind([7, 0, 3]))
    assert states.view(-1).tolist() == [31.0, 0.0, 11.0]


def test_sample_by_index_with_tensor_indexes_and_mini_batches():
    """skrl 0.10 fails here with IndexError on torch 2.x (bug #23)."""
    batches = filled_memory().sample_by_index(
        ["states", "actions"], torch.tensor([7, 6, 5, 4, 3]), mini_batches=2
    )
    assert [batch[0].view(-1).tolist() for batch in batches] == [[31.0, 30.0], [21.0, 20.0, 11.0]]
    assert [batch[1].view(-1).tolist() for batch in batches] == [[-31.0, -30.0], [-21.0, -20.0, -11.0]]


def test_sample_by_index_refuses_two_dimensional_indexes():
    with pytest.raises(ValueError, match=r"indexes should be 1-D rows of the flat views, got shape \(2, 2\)"):
        filled_memory().sample_by_index(["states"], torch.zeros(2, 2, dtype=torch.long))


def test_sample_by_index_keeps_dimensions():
    memory = make_memory(memory_size=2, num_envs=2, states=1)
    memory.create_tensor("rnn", (2, 3), keep_dimensions=True)
    memory.add_samples(states=torch.zeros(2, 1), rnn=torch.arange(12.0).view(2, 2, 3))
    [[rnn, rnn_again]] = memory.sample_by_index(["rnn", "rnn"], [1])
    assert rnn.shape == (1, 2, 3)
    assert rnn[0].tolist() == [[6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]
    assert torch.equal(rnn, rnn_again)


def test_base_sample_is_not_implemented():
    with pytest.raises(NotImplementedError, match="use RandomMemory"):
        make_memory().sample(["states"], 2)
