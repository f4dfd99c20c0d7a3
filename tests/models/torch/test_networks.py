"""`rlblocks.models.torch.networks`: the MLP layout checkpoints depend on, activations by name."""

import pytest
import torch
from torch import nn

from rlblocks.models.torch.networks import ACTIVATIONS, activation, check_activation, hidden_activations, mlp


def test_linear_layers_sit_at_even_indices_with_their_activations_after_them():
    net = mlp(4, [8, 6], ["tanh", "relu"], 2, "tanh")
    assert [type(layer) for layer in net] == [nn.Linear, nn.Tanh, nn.Linear, nn.ReLU, nn.Linear, nn.Tanh]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [(net[i].in_features, net[i].out_features) for i in (0, 2, 4)] == [(4, 8), (8, 6), (6, 2)]


def test_a_trunk_ends_after_the_last_hidden_activation():
    net = mlp(3, [5], "elu", None)
    assert [type(layer) for layer in net] == [nn.Linear, nn.ELU]


def test_no_hidden_layers_give_a_linear_model():
    net = mlp(3, [], ["relu", "relu"], 2)
    assert [type(layer) for layer in net] == [nn.Linear]
    assert (net[0].in_features, net[0].out_features) == (3, 2)


def test_a_name_repeated_applies_to_any_depth_and_a_single_name_to_every_layer():
    assert hidden_activations([4, 4, 4], ["relu", "relu"]) == ["relu", "relu", "relu"]
    assert hidden_activations([4, 4], "tanh") == ["tanh", "tanh"]
    assert hidden_activations([4], None) == [""]


def test_different_names_must_be_one_per_layer():
    with pytest.raises(ValueError, match=r"hidden_activation has 2 entries for 3 hidden layers \[4, 4, 4\]"):
        hidden_activations([4, 4, 4], ["relu", "elu"])


def test_activation_names_are_case_insensitive_and_empty_means_identity():
    assert isinstance(activation("ReLU"), nn.ReLU)
    assert isinstance(activation(""), nn.Identity) and isinstance(activation(None), nn.Identity)
    assert check_activation("Leaky_ReLU") == "leaky_relu" and check_activation(None) == ""


def test_softmax_normalises_the_last_dimension():
    softmax = activation("softmax")
    torch.testing.assert_close(softmax(torch.zeros(2, 4)), torch.full((2, 4), 0.25))


def test_an_unknown_name_lists_the_nearest_and_every_accepted_one():
    with pytest.raises(ValueError) as error:
        activation("sigmod")
    assert str(error.value) == (
        "Unknown activation function: 'sigmod' (did you mean \"sigmoid\"?); supported: "
        + ", ".join(ACTIVATIONS)
    )
