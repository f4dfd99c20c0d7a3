"""Observation and action conversions between env data and flat tensors."""

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlblocks.envs.torch.wrappers.conversions import (
    first_action,
    observation_to_tensor,
    observations_to_tensor,
    tensor_to_actions,
    with_final_observations,
)

CPU = torch.device("cpu")


def test_box_actions_are_reshaped_to_the_space_shape_and_dtype():
    space = spaces.Box(-1, 1, shape=(2, 3), dtype=np.float64)
    actions = torch.arange(12, dtype=torch.float32).reshape(2, 6)
    batch = tensor_to_actions(space, actions, num_envs=2)
    assert batch.dtype == np.float64 and batch.shape == (2, 2, 3)
    assert batch[1].tolist() == [[6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]


def test_discrete_actions_become_int64_and_a_python_int_for_one_env():
    batch = tensor_to_actions(spaces.Discrete(3), torch.tensor([[2], [0]]), num_envs=2)
    assert batch.dtype == np.int64 and batch.tolist() == [2, 0]
    single = first_action(spaces.Discrete(3), tensor_to_actions(spaces.Discrete(3), torch.tensor([[2]]), 1))
    assert single == 2 and type(single) is int


def test_float_actions_for_an_integer_space_are_rounded():
    batch = tensor_to_actions(spaces.Discrete(3), torch.tensor([[1.9999], [0.2]]), num_envs=2)
    assert batch.tolist() == [2, 0]


def test_multi_discrete_actions_keep_the_nvec_shape():
    space = spaces.MultiDiscrete([3, 4])
    batch = tensor_to_actions(space, torch.tensor([[2, 3], [0, 1]]), num_envs=2)
    assert batch.shape == (2, 2) and batch.dtype == space.dtype and batch.tolist() == [[2, 3], [0, 1]]


def test_dict_actions_are_split_in_sorted_key_order():
    space = spaces.Dict({"b": spaces.Box(-1, 1, (2,)), "a": spaces.Discrete(4)})
    batch = tensor_to_actions(space, torch.tensor([[3.0, 0.5, -0.5]]), num_envs=1)
    action = first_action(space, batch)
    assert action["a"] == 3 and action["b"].tolist() == [0.5, -0.5]


def test_actions_do_not_alias_the_agent_tensor():
    actions = torch.zeros(1, 2)
    batch = tensor_to_actions(spaces.Box(-1, 1, (2,)), actions, num_envs=1)
    batch[0, 0] = 5.0
    assert actions[0, 0].item() == 0.0


def test_one_dimensional_discrete_actions_are_accepted():
    assert tensor_to_actions(spaces.Discrete(2), torch.tensor([1, 0]), num_envs=2).tolist() == [1, 0]


@pytest.mark.parametrize("shape", [(3, 1), (2, 2), ()])
def test_wrong_action_shapes_are_rejected(shape):
    with pytest.raises(ValueError, match=r"should be \(num_envs, 1\) = \(2, 1\)"):
        tensor_to_actions(spaces.Discrete(2), torch.zeros(shape), num_envs=2)


def test_discrete_observations_are_int64_columns():
    states = observations_to_tensor(spaces.Discrete(16), np.array([3, 7]), CPU)
    assert states.dtype == torch.int64 and states.tolist() == [[3], [7]]
    assert observation_to_tensor(spaces.Discrete(16), 5, CPU).tolist() == [[5]]


def test_a_discrete_part_of_a_dict_observation_is_one_float_index_column():
    """The model instantiators one-hot encode it (rlblocks.utils.spaces.one_hot_encode)."""
    space = spaces.Dict({"a": spaces.Box(-1, 1, (3,)), "b": spaces.Discrete(4)})
    batch = {"a": np.array([[0.5, -0.5, 0.25], [0.0, 1.0, 0.0]], np.float32), "b": np.array([3, 0])}
    states = observations_to_tensor(space, batch, CPU)
    assert states.dtype == torch.float32
    assert states.tolist() == [[0.5, -0.5, 0.25, 3.0], [0.0, 1.0, 0.0, 0.0]]


def test_tuple_observation_of_one_env():
    space = spaces.Tuple((spaces.Discrete(3), spaces.Box(-1, 1, (2,))))
    states = observation_to_tensor(space, (2, np.array([0.5, -0.5], dtype=np.float32)), CPU)
    assert states.dtype == torch.float32 and states.tolist() == [[2.0, 0.5, -0.5]]


def test_image_observation_stays_uint8_with_its_shape():
    space = spaces.Box(0, 255, (2, 2, 1), dtype=np.uint8)
    batch = np.arange(8, dtype=np.uint8).reshape(2, 2, 2, 1)
    states = observations_to_tensor(space, batch, CPU)
    assert states.dtype == torch.uint8 and states.shape == (2, 2, 2, 1)
    assert states.reshape(2, -1).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    batch[0, 0, 0, 0] = 99  # the tensor owns its copy
    assert states[0, 0, 0, 0] == 0


def test_one_frame_stack_becomes_a_batch_of_one_uint8_image():
    space = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    states = observation_to_tensor(space, np.full((4, 84, 84), 7, dtype=np.uint8), CPU)
    assert states.dtype == torch.uint8 and states.shape == (1, 4, 84, 84) and int(states.max()) == 7


def test_a_float_box_of_image_shape_is_still_flattened_to_float32():
    space = spaces.Box(0.0, 1.0, (2, 2, 1), dtype=np.float32)
    states = observations_to_tensor(space, np.zeros((3, 2, 2, 1), dtype=np.float32), CPU)
    assert states.dtype == torch.float32 and states.shape == (3, 4)


def test_with_final_observations_replaces_only_the_given_rows_in_a_copy():
    space = gymnasium.spaces.Box(-10, 10, (1,))
    states = torch.zeros(3, 1)
    next_states = with_final_observations(space, states, {1: np.array([7.0])}, CPU)
    assert next_states.tolist() == [[0.0], [7.0], [0.0]] and states.tolist() == [[0.0]] * 3
