"""The instantiators' typed specs: defaults written once, round trips, early and helpful errors."""

import dataclasses
import inspect

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.utils.model_instantiators import (
    CATEGORICAL,
    DETERMINISTIC,
    GAUSSIAN,
    CategoricalSpec,
    DeterministicSpec,
    GaussianModel,
    GaussianSpec,
    MLPSpec,
    MultivariateGaussianModel,
    Shape,
    categorical_model,
    deterministic_model,
    gaussian_model,
    multivariate_gaussian_model,
    shared_model,
)

OBSERVATIONS = gymnasium.spaces.Box(-1.0, 1.0, (4,), np.float32)
ACTIONS = gymnasium.spaces.Box(-2.0, 2.0, (2,), np.float32)
SPACES = ("observation_space", "action_space", "device")


def signature_defaults(factory):
    parameters = inspect.signature(factory).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in SPACES}


def as_lists(arguments):
    return {name: list(value) if isinstance(value, tuple) else value for name, value in arguments.items()}


@pytest.mark.parametrize(
    ("factory", "defaults", "without"),
    [
        (gaussian_model, GAUSSIAN, ()),
        (multivariate_gaussian_model, GAUSSIAN, ("reduction",)),
        (deterministic_model, DETERMINISTIC, ()),
        (categorical_model, CATEGORICAL, ("output_scale",)),
    ],
)
def test_factory_signature_defaults_are_the_specs_defaults(factory, defaults, without):
    expected = {name: value for name, value in as_lists(defaults.arguments()).items() if name not in without}
    assert signature_defaults(factory) == expected


def test_skrl_defaults_are_kept():
    assert signature_defaults(gaussian_model) == {
        "clip_actions": False,
        "clip_log_std": True,
        "min_log_std": -20,
        "max_log_std": 2,
        "input_shape": Shape.STATES,
        "hiddens": [256, 256],
        "hidden_activation": ["relu", "relu"],
        "output_shape": Shape.ACTIONS,
        "output_activation": "tanh",
        "output_scale": 1.0,
        "reduction": "sum",
        "initial_log_std": 0.0,
        "rnn": None,  # an rlblocks extension: a recurrent layer before the hidden layers
        "encoder": None,  # an rlblocks extension: a convolutional encoder of image states
    }
    assert CATEGORICAL.network.output_activation is None and CATEGORICAL.unnormalized_log_prob is True


def test_a_spec_round_trips_through_the_factory_arguments():
    spec = GaussianSpec(
        MLPSpec(Shape.STATES_ACTIONS, (64, 32), ("tanh", "elu"), 3, None, 2.0),
        clip_actions=False,
        min_log_std=-5.0,
        reduction="mean",
        initial_log_std=-1.0,
    )
    assert GAUSSIAN.with_arguments(spec.arguments()) == spec
    model = gaussian_model(OBSERVATIONS, ACTIONS, "cpu", **spec.arguments())
    assert model.spec == spec
    assert gaussian_model(OBSERVATIONS, ACTIONS, "cpu").spec == GAUSSIAN


def test_with_arguments_replaces_only_the_given_fields():
    spec = DETERMINISTIC.with_arguments({"hiddens": [16], "clip_actions": True, "output_shape": "one"})
    assert spec == DeterministicSpec(MLPSpec(hiddens=(16,), output_shape=Shape.ONE), clip_actions=True)


def test_yaml_values_are_normalised():
    spec = MLPSpec(input_shape="states_actions", hiddens=[64, 32], hidden_activation=["tanh", "relu"])
    assert spec.input_shape is Shape.STATES_ACTIONS
    assert spec.hiddens == (64, 32) and spec.hidden_activation == ("tanh", "relu")
    assert MLPSpec(output_shape="Shape.ONE", output_scale=2).output_scale == 2.0
    assert MLPSpec(output_shape="Shape.ONE").output_shape is Shape.ONE


def test_a_spec_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GAUSSIAN.network.hiddens = (8,)


def test_a_model_built_from_a_spec_equals_the_factorys():
    spec = GAUSSIAN.with_arguments({"hiddens": [8], "output_scale": 2.0})
    torch.manual_seed(0)
    direct = GaussianModel(OBSERVATIONS, ACTIONS, "cpu", spec)
    torch.manual_seed(0)
    factory = gaussian_model(OBSERVATIONS, ACTIONS, "cpu", hiddens=[8], output_scale=2.0)
    assert direct.state_dict().keys() == factory.state_dict().keys()
    assert all(torch.equal(direct.state_dict()[k], factory.state_dict()[k]) for k in direct.state_dict())


def test_a_wrong_activation_name_names_the_value_and_the_accepted_names():
    accepted = "supported: relu, tanh, sigmoid, leaky_relu, elu, softplus, softsign, selu, softmax"
    with pytest.raises(
        ValueError, match=rf"Unknown activation function: 'tahn' \(did you mean \"tanh\"\?\); {accepted}$"
    ):
        MLPSpec(hidden_activation="tahn")
    with pytest.raises(ValueError, match=r"Unknown activation function: 'swish'; supported: relu, "):
        MLPSpec(output_activation="swish")
    with pytest.raises(ValueError, match=r"Unknown activation function: 'gelu'"):
        MLPSpec(hiddens=(4, 4), hidden_activation=("relu", "gelu"))


@pytest.mark.parametrize("hiddens", [[0], [64, -1], "64", 64, [2.5]])
def test_layer_sizes_must_be_positive_ints(hiddens):
    with pytest.raises(
        ValueError, match=r"hiddens must be a list of positive layer sizes, e\.g\. \[256, 256\], got"
    ):
        MLPSpec(hiddens=hiddens)


def test_the_input_shape_must_be_a_shape():
    with pytest.raises(ValueError, match=r"input_shape must be a Shape .*got 4"):
        MLPSpec(input_shape=4)


def test_spec_errors_are_raised_before_a_model_is_built():
    with pytest.raises(ValueError, match="positive layer sizes"):
        deterministic_model(OBSERVATIONS, ACTIONS, "cpu", hiddens=[64, 0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        GaussianSpec(reduction="max")
    with pytest.raises(ValueError, match='output_activation="softmax"'):
        CategoricalSpec(unnormalized_log_prob=False)


def test_an_unknown_argument_names_the_nearest_and_the_valid_ones():
    with pytest.raises(
        ValueError,
        match=r"unknown argument 'hidens' \(did you mean \"hiddens\"\?\); valid: clip_actions, input_shape",
    ):
        DETERMINISTIC.with_arguments({"hidens": [8]})
    with pytest.raises(ValueError, match=r"unknown shared_model value parameter 'output_scal'"):
        shared_model(
            OBSERVATIONS, ACTIONS, "cpu", roles=["policy", "value"], parameters=[{}, {"output_scal": 2}]
        )


def test_a_multivariate_gaussian_model_only_takes_the_joint_reduction():
    with pytest.raises(ValueError, match=r'joint one \(reduction "sum"\), got reduction=\'mean\''):
        MultivariateGaussianModel(OBSERVATIONS, ACTIONS, "cpu", GaussianSpec(reduction="mean"))


def test_shared_model_value_defaults_to_one_linear_output():
    model = shared_model(OBSERVATIONS, ACTIONS, "cpu", roles=["policy", "value"], parameters=[{}, {}])
    assert model.value_spec.network.output_shape is Shape.ONE
    assert model.value_spec.network.output_activation is None
    assert [type(layer).__name__ for layer in model.value_net] == ["Linear"]
    assert [type(layer).__name__ for layer in model.mean_net] == ["Linear", "Tanh"]
