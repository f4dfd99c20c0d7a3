"""Spaces shared by models, memories and wrappers: sizes, flattening, mapping back, sampling."""

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.spaces import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlblocks.utils import spaces

BOX_2x3 = Box(-1, 1, (2, 3))
NESTED = Dict(
    {
        "x": Tuple((Discrete(2), Dict({"y": Box(-1, 1, (4,)), "z": MultiDiscrete([2, 2])}))),
        "w": Discrete(5),
    }
)

# (space, number of elements, flat width)
SIZES = [
    (2, 2, 2),
    (2.7, 2, 2),
    ([2, 3], 6, 6),
    ((), 1, 1),
    (torch.Size([2, 3]), 6, 6),
    (np.int64(5), 5, 5),
    ((np.int64(2), 3), 6, 6),
    (BOX_2x3, 6, 6),
    (Box(-1, 1, ()), 1, 1),
    (Discrete(4), 4, 1),
    (MultiDiscrete([3, 2]), 5, 2),
    (MultiDiscrete([[2, 3], [4, 5]]), 14, 4),
    (MultiBinary(3), 3, 3),
    (MultiBinary([2, 3]), 6, 6),
    (Dict({"a": BOX_2x3, "b": Discrete(4)}), 10, 7),
    (Tuple((Discrete(3), Box(-1, 1, (2,)))), 5, 3),
    (NESTED, 2 + 4 + 4 + 5, 1 + 4 + 2 + 1),
]


@pytest.mark.parametrize(("space", "elements", "width"), SIZES, ids=[repr(case[0])[:40] for case in SIZES])
def test_space_sizes(space, elements, width):
    assert spaces.compute_space_size(space) == elements
    assert spaces.compute_space_size(space, number_of_elements=False) == width
    assert spaces.flat_size(space) == width


UNSUPPORTED = [
    None,
    "box",
    True,
    np.float64(1.5),
    [2.0, 3],
    [[2, 3]],
    gymnasium.spaces.Text(5),
    gymnasium.spaces.Sequence(Discrete(2)),
]


@pytest.mark.parametrize("space", UNSUPPORTED, ids=[type(space).__name__ for space in UNSUPPORTED])
def test_unsupported_spaces_raise_value_error_naming_the_type_and_listing_supported_ones(space):
    with pytest.raises(
        ValueError,
        match=rf"Space type {type(space)!s} not supported .*; supported: {spaces.SUPPORTED_SPACES}",
    ):
        spaces.compute_space_size(space)


def test_an_unsupported_space_nested_in_a_dict_is_named():
    with pytest.raises(ValueError, match=r"Space type <class 'gymnasium.spaces.text.Text'> not supported"):
        spaces.compute_space_size(Dict({"ok": Discrete(2), "bad": gymnasium.spaces.Text(3)}))


# ------------------------------------------------------------- tensor_to_space


def test_tensor_to_space_maps_a_box_discrete_and_multidiscrete():
    assert spaces.tensor_to_space(torch.arange(12.0).view(2, 6), BOX_2x3).shape == (2, 2, 3)
    assert torch.equal(
        spaces.tensor_to_space(torch.tensor([[3.0], [1.0]]), Discrete(4)), torch.tensor([[3.0], [1.0]])
    )
    assert spaces.tensor_to_space(torch.zeros(5, 4), MultiDiscrete([[2, 3], [4, 5]])).shape == (5, 2, 2)


def test_tensor_to_space_maps_nested_dicts_in_sorted_key_order():
    space = Dict({"outer": Dict({"b": Discrete(3), "a": Box(-1, 1, (2,))}), "c": Box(-1, 1, (1,))})
    mapped = spaces.tensor_to_space(torch.tensor([[9.0, 1.0, 2.0, 7.0]]), space)
    assert torch.equal(mapped["c"], torch.tensor([[9.0]]))
    assert torch.equal(mapped["outer"]["a"], torch.tensor([[1.0, 2.0]]))
    assert torch.equal(mapped["outer"]["b"], torch.tensor([[7.0]]))


def test_tensor_to_space_maps_nested_tuples_in_order():
    space = Tuple((Discrete(2), Tuple((Box(-1, 1, (2,)), Discrete(3)))))
    first, (second, third) = spaces.tensor_to_space(torch.tensor([[1.0, 0.5, -0.5, 2.0]]), space)
    assert torch.equal(first, torch.tensor([[1.0]]))
    assert torch.equal(second, torch.tensor([[0.5, -0.5]]))
    assert torch.equal(third, torch.tensor([[2.0]]))


def test_tensor_to_space_starts_at_the_given_column():
    assert torch.equal(
        spaces.tensor_to_space(torch.tensor([[0.0, 1.0, 2.0]]), Box(-1, 1, (2,)), start=1),
        torch.tensor([[1.0, 2.0]]),
    )


def test_tensor_to_space_keeps_extra_leading_dimensions():
    assert spaces.tensor_to_space(torch.zeros(4, 3, 6), BOX_2x3).shape == (4, 3, 2, 3)


def test_tensor_to_space_with_too_few_columns_raises():
    with pytest.raises(ValueError, match=r"needs columns 0:6, but the tensor is \(1, 5\)"):
        spaces.tensor_to_space(torch.zeros(1, 5), BOX_2x3)


def test_tensor_to_space_without_a_batch_dimension_raises():
    with pytest.raises(
        ValueError, match=r"needs a \(N, k\) tensor of flat rows, got \(6,\); .*unsqueeze\(0\)"
    ):
        spaces.tensor_to_space(torch.zeros(6), BOX_2x3)


def test_tensor_to_space_with_an_int_space_raises():
    with pytest.raises(ValueError, match=r"needs a gymnasium space, got 6"):
        spaces.tensor_to_space(torch.zeros(1, 6), 6)


# ---------------------------------------------------------------- flatten_sample


def test_flatten_sample_concatenates_leaves_in_sorted_key_order_as_float32():
    space = Dict({"b": Discrete(4), "a": Box(-1, 1, (2,))})
    sample = {"b": np.array([3, 1]), "a": np.array([[0.5, -0.5], [0.25, 0.0]], np.float32)}
    flat = spaces.flatten_sample(space, sample)
    assert flat.dtype == torch.float32
    assert torch.equal(flat, torch.tensor([[0.5, -0.5, 3.0], [0.25, 0.0, 1.0]]))


# ------------------------------------------------------- one-hot network input


def test_a_discrete_part_of_a_dict_takes_one_index_column_in_a_flat_row():
    space = Dict({"a": Box(-1, 1, (3,)), "b": Discrete(4)})
    sample = {"a": np.array([[0.5, -0.5, 0.25]], np.float32), "b": np.array([2])}
    assert spaces.flat_size(space) == 4 and spaces.compute_space_size(space) == 7
    assert spaces.flatten_sample(space, sample).tolist() == [[0.5, -0.5, 0.25, 2.0]]


def test_one_hot_encode_turns_index_columns_into_one_hot_blocks():
    space = Dict({"a": Box(-1, 1, (3,)), "b": Discrete(4)})
    rows = torch.tensor([[0.5, -0.5, 0.25, 2.0], [0.0, 1.0, 0.0, 0.0]])
    assert spaces.one_hot_encode(space, rows).tolist() == [
        [0.5, -0.5, 0.25, 0.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    ]


def test_one_hot_encode_counts_from_the_spaces_start():
    assert spaces.one_hot_encode(Discrete(3, start=-1), torch.tensor([[-1], [1]])).tolist() == [
        [1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
    ]
    multi = MultiDiscrete([2, 3], start=[1, 10])
    assert spaces.one_hot_encode(multi, torch.tensor([[2, 10]])).tolist() == [[0.0, 1.0, 1.0, 0.0, 0.0]]


def test_one_hot_encode_keeps_box_and_multi_binary_columns():
    space = Tuple((MultiBinary(2), Box(-1, 1, (1,))))
    encoded = spaces.one_hot_encode(space, torch.tensor([[1, 0, 7]]))
    assert encoded.dtype == torch.float32 and encoded.tolist() == [[1.0, 0.0, 7.0]]


@pytest.mark.parametrize("space", [NESTED, Dict({"a": Box(-1, 1, (3,)), "b": Discrete(4, start=2)})])
def test_one_hot_encode_of_a_flat_row_equals_gymnasiums_flatten(space):
    space.seed(0)
    samples = [space.sample() for _ in range(5)]
    batch = gymnasium.vector.utils.concatenate(
        space, samples, gymnasium.vector.utils.create_empty_array(space, 5)
    )
    encoded = spaces.one_hot_encode(space, spaces.flatten_sample(space, batch))
    expected = np.stack([gymnasium.spaces.flatten(space, sample) for sample in samples])
    assert encoded.shape == (5, spaces.compute_space_size(space))
    np.testing.assert_allclose(encoded.numpy(), expected)


def test_one_hot_encode_rejects_rows_of_another_width():
    with pytest.raises(ValueError, match=r"flat rows of .* are 4 wide, got a tensor of shape \(2, 7\)"):
        spaces.one_hot_encode(Dict({"a": Box(-1, 1, (3,)), "b": Discrete(4)}), torch.zeros(2, 7))


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (Box(-1, 1, (3,)), False),
        (Discrete(2), True),
        (MultiDiscrete([2, 2]), True),
        (MultiBinary(3), False),
        (Dict({"a": Box(-1, 1, (3,)), "b": Tuple((Box(-1, 1, (1,)), Discrete(2)))}), True),
        (4, False),
    ],
)
def test_has_index_columns(space, expected):
    assert spaces.has_index_columns(space) is expected


# ------------------------------------------------------------------ sample_space


def test_sample_space_box_honours_each_dimensions_bounds():
    space = Box(np.array([-1, 0], np.float32), np.array([1, 10], np.float32))
    samples = spaces.sample_space(space, 5000)
    assert samples.shape == (5000, 2) and samples.dtype == torch.float32
    assert samples[:, 0].min() >= -1 and samples[:, 0].max() <= 1
    assert samples[:, 1].min() >= 0 and samples[:, 1].max() <= 10 and samples[:, 1].max() > 9


def test_sample_space_box_with_infinite_bounds_respects_the_finite_ones():
    space = Box(np.array([0, -np.inf, -np.inf], np.float32), np.array([np.inf, 0, np.inf], np.float32))
    samples = spaces.sample_space(space, 2000)
    assert torch.isfinite(samples).all()
    assert samples[:, 0].min() >= 0 and samples[:, 1].max() <= 0
    assert samples[:, 2].min() < 0 < samples[:, 2].max()


@pytest.mark.parametrize(
    ("space", "shape", "low", "high"),
    [
        (Discrete(3, start=-1), (1000, 1), -1, 1),
        (MultiDiscrete([2, 4]), (1000, 2), 0, 3),
        (MultiBinary(3), (1000, 3), 0, 1),
    ],
)
def test_sample_space_discrete_kinds_are_int64_within_range(space, shape, low, high):
    samples = spaces.sample_space(space, 1000)
    assert samples.shape == shape and samples.dtype == torch.int64
    assert samples.min() == low and samples.max() == high


def test_sample_space_of_a_dict_is_its_flat_float_row():
    samples = spaces.sample_space(NESTED, 7)
    assert samples.shape == (7, spaces.flat_size(NESTED)) and samples.dtype == torch.float32


def test_sample_space_of_an_int_raises():
    with pytest.raises(ValueError, match=r"an int or a shape has no bounds"):
        spaces.sample_space(3, 2)


def test_box_bounds_are_flat_float32():
    low, high = spaces.box_bounds(BOX_2x3)
    assert low.shape == (6,) and low.dtype == torch.float32 and torch.equal(high, torch.ones(6))


# ------------------------------------------------------------ legacy gym spaces


def legacy_gym_space(name, **attributes):
    """An object whose class looks like the legacy gym package's (gym itself is not installed)."""
    klass = type(name, (), {"__module__": f"gym.spaces.{name.lower()}"})
    space = klass()
    space.__dict__.update(attributes)
    return space


def test_legacy_gym_spaces_are_recognised_by_class_name():
    box = legacy_gym_space(
        "Box", low=np.array([-1, 0], np.float32), high=np.array([1, 10], np.float32), shape=(2,)
    )
    discrete = legacy_gym_space("Discrete", n=4)  # gym < 0.26: no start
    space = legacy_gym_space("Dict", spaces={"a": box, "b": discrete})
    assert spaces.space_kind(box) == "box" and spaces.is_box(box) and spaces.is_discrete(discrete)
    assert spaces.compute_space_size(space) == 6 and spaces.flat_size(space) == 3
    samples = spaces.sample_space(space, 500)
    assert samples[:, 1].max() > 1 and samples[:, 2].max() == 3


def test_other_classes_named_like_spaces_are_not_taken_for_gym_spaces():
    impostor = type("Box", (), {"__module__": "mypackage.spaces"})()
    with pytest.raises(ValueError, match="not supported"):
        spaces.space_kind(impostor)


# ----------------------------------------------------------- property tests

leaf_spaces = st.one_of(
    st.builds(
        lambda shape, low, width: Box(low, low + width, shape, np.float32),
        st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
        st.floats(-10, 10, width=32),
        st.floats(0.5, 20, width=32),
    ),
    st.builds(
        lambda shape: Box(-np.inf, np.inf, shape, np.float32),
        st.lists(st.integers(1, 3), max_size=2).map(tuple),
    ),
    st.builds(lambda n, start: Discrete(n, start=start), st.integers(1, 10), st.integers(-5, 5)),
    st.builds(MultiDiscrete, st.lists(st.integers(1, 6), min_size=1, max_size=3)),
    st.builds(MultiBinary, st.one_of(st.integers(1, 4), st.lists(st.integers(1, 3), min_size=1, max_size=2))),
)
composite_spaces = st.recursive(
    leaf_spaces,
    lambda children: st.one_of(
        st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), children, min_size=1, max_size=3).map(
            Dict
        ),
        st.lists(children, min_size=1, max_size=3).map(lambda items: Tuple(tuple(items))),
    ),
    max_leaves=6,
)


def stack_samples(space, samples):
    """One batch (a leading N axis on every leaf) from N single samples of a space."""
    if isinstance(space, Dict):
        return {
            key: stack_samples(sub, [sample[key] for sample in samples]) for key, sub in space.spaces.items()
        }
    if isinstance(space, Tuple):
        return tuple(
            stack_samples(sub, [sample[i] for sample in samples]) for i, sub in enumerate(space.spaces)
        )
    return np.stack([np.asarray(sample) for sample in samples])


def assert_same_batch(space, mapped, batch):
    if isinstance(space, Dict):
        assert set(mapped) == set(space.spaces)
        for key, sub in space.spaces.items():
            assert_same_batch(sub, mapped[key], batch[key])
        return
    if isinstance(space, Tuple):
        assert isinstance(mapped, tuple) and len(mapped) == len(space.spaces)
        for sub, part, leaf in zip(space.spaces, mapped, batch):
            assert_same_batch(sub, part, leaf)
        return
    expected = torch.as_tensor(batch, dtype=torch.float32)
    expected_shape = (len(batch), 1) if isinstance(space, Discrete) else tuple(batch.shape)
    assert tuple(mapped.shape) == expected_shape
    assert torch.equal(mapped, expected.reshape(expected_shape))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=composite_spaces, batch_size=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_flatten_then_tensor_to_space_gives_back_the_sample(space, batch_size, seed):
    space.seed(seed)
    batch = stack_samples(space, [space.sample() for _ in range(batch_size)])
    flat = spaces.flatten_sample(space, batch)
    assert flat.shape == (batch_size, spaces.flat_size(space))
    assert_same_batch(space, spaces.tensor_to_space(flat, space), batch)


def unflatten_row(space, mapped, row):
    """Row `row` of a mapped batch as a sample of the space, in the space's own types."""
    if isinstance(space, Dict):
        return {key: unflatten_row(sub, mapped[key], row) for key, sub in space.spaces.items()}
    if isinstance(space, Tuple):
        return tuple(unflatten_row(sub, part, row) for sub, part in zip(space.spaces, mapped))
    value = mapped[row].numpy()
    if isinstance(space, Discrete):
        return np.int64(value[0])
    return value.astype(space.dtype)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=composite_spaces, batch_size=st.integers(1, 4))
def test_sample_space_rows_are_members_of_the_space(space, batch_size):
    samples = spaces.sample_space(space, batch_size)
    assert samples.shape == (batch_size, spaces.flat_size(space))
    mapped = spaces.tensor_to_space(samples.float(), space)
    for row in range(batch_size):
        assert space.contains(unflatten_row(space, mapped, row))
