"""Convolutional encoders in the model instantiators: specs, shapes, scaling, errors."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlblocks.models.torch.convolutional import NATURE_CNN, ConvEncoder, ConvLayer
from rlblocks.utils.images import image_layout
from rlblocks.utils.model_instantiators import (
    MLPSpec,
    categorical_model,
    deterministic_model,
    gaussian_model,
)
from rlblocks.utils.model_instantiators.encoders import EncoderSpec

FRAMES = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
SIX_ACTIONS = spaces.Discrete(6)


def test_the_three_ways_to_write_an_encoder():
    assert EncoderSpec.of({"type": "nature_cnn"}) == EncoderSpec.of("nature_cnn") == EncoderSpec()
    assert EncoderSpec().layers == NATURE_CNN and EncoderSpec().features == 512
    listed = EncoderSpec.of(
        [{"conv": [32, 8, 4]}, {"conv": [64, 4, 2]}, {"conv": [64, 3, 1]}, {"linear": 512}]
    )
    assert listed == EncoderSpec(type="conv", layers=NATURE_CNN, features=512)
    mapped = EncoderSpec.of({"type": "conv", "layers": [[16, 3, 1, 1]], "features": None})
    assert mapped.layers == (ConvLayer(16, 3, 1, 1),) and mapped.features is None
    assert EncoderSpec.of([{"conv": [8, 3, 1]}]).features is None  # no {linear} given: none
    assert MLPSpec(encoder={"type": "nature_cnn"}).encoder == EncoderSpec()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"type": "nature"}, 'did you mean "nature_cnn"'),
        ({"type": "conv"}, "needs layers"),
        ({"typ": "conv"}, 'did you mean "type"'),
        ([{"conv": [32, 8]}], r"\[channels, kernel_size, stride\]"),
        ([{"linear": 64}, {"conv": [8, 3, 1]}], "conv layers come first"),
        ([{"conv": [0, 3, 1]}], "channels must be a positive int"),
        ({"type": "nature_cnn", "layers": [[8, 3, 1]]}, 'use type "conv"'),
        (42, "an encoder is written"),
    ],
)
def test_bad_encoders_are_refused_with_the_fix(value, message):
    with pytest.raises(ValueError, match=message):
        EncoderSpec.of(value)


def test_nature_cnn_shapes_and_parameter_count():
    model = categorical_model(FRAMES, SIX_ACTIONS, "cpu", encoder={"type": "nature_cnn"}, hiddens=[])
    convolutions = [module for module in model.encoder.convolutions if isinstance(module, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convolutions] == [
        (4, 32, (8, 8), (4, 4)),
        (32, 64, (4, 4), (2, 2)),
        (64, 64, (3, 3), (1, 1)),
    ]
    assert model.encoder.linear[0].in_features == 64 * 7 * 7 and model.net[0].in_features == 512
    # conv (8·8·4·32 + 32) + (4·4·32·64 + 64) + (3·3·64·64 + 64) + linear (3136·512 + 512) + head (512·6 + 6)
    expected = 8224 + 32832 + 36928 + 1606144 + 3078
    assert sum(parameter.numel() for parameter in model.parameters()) == expected


def test_uint8_frames_flat_rows_and_float_pixels_give_the_same_output():
    torch.manual_seed(0)
    model = categorical_model(FRAMES, SIX_ACTIONS, "cpu", encoder="nature_cnn", hiddens=[64])
    frames = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    logits = model.compute({"states": frames})[0]
    assert logits.shape == (3, 6)
    assert torch.equal(model.compute({"states": frames.reshape(3, -1)})[0], logits)
    assert torch.allclose(model.compute({"states": frames.float()})[0], logits)


def test_the_encoder_scales_pixels_once():
    encoder = ConvEncoder(
        image_layout(spaces.Box(0, 255, (1, 3, 3), dtype=np.uint8)), [ConvLayer(1, 3, 1)], None
    )
    torch.nn.init.ones_(encoder.convolutions[0].weight)
    torch.nn.init.zeros_(encoder.convolutions[0].bias)
    out = encoder(torch.full((1, 1, 3, 3), 255, dtype=torch.uint8))
    assert out.shape == (1, 1) and torch.allclose(out, torch.tensor([[9.0]]))  # 9 pixels of 1.0


def test_channels_last_frames_are_read_channels_first():
    space = spaces.Box(0, 255, (16, 16, 3), dtype=np.uint8)
    model = deterministic_model(
        space, 2, "cpu", encoder=[{"conv": [4, 3, 2]}], hiddens=[], output_shape="ONE", output_activation=None
    )
    assert model.encoder.convolutions[0].in_channels == 3
    frames = torch.randint(0, 256, (2, 16, 16, 3), dtype=torch.uint8)
    assert model.compute({"states": frames})[0].shape == (2, 1)


def test_a_critic_encodes_the_states_and_concatenates_the_actions():
    critic = deterministic_model(
        FRAMES,
        spaces.Box(-1.0, 1.0, (2,)),
        "cpu",
        encoder={"type": "conv", "layers": [[8, 8, 4]], "features": 32},
        input_shape="STATES_ACTIONS",
        hiddens=[16],
        output_shape="ONE",
        output_activation=None,
    )
    assert critic.net[0].in_features == 32 + 2
    states = torch.zeros(5, 4, 84, 84, dtype=torch.uint8)
    assert critic.compute({"states": states, "taken_actions": torch.zeros(5, 2)})[0].shape == (5, 1)


def test_a_gaussian_policy_takes_an_encoder_too():
    policy = gaussian_model(FRAMES, spaces.Box(-1.0, 1.0, (3,)), "cpu", encoder="nature_cnn", hiddens=[])
    actions, log_prob, _ = policy.act({"states": torch.zeros(2, 4, 84, 84, dtype=torch.uint8)})
    assert actions.shape == (2, 3) and log_prob.shape == (2, 1)


def test_encoders_refuse_non_image_spaces_and_images_too_small():
    with pytest.raises(ValueError, match="expected an image observation space"):
        categorical_model(spaces.Box(-1.0, 1.0, (4,)), 2, "cpu", encoder="nature_cnn")
    with pytest.raises(ValueError, match="shrink a"):
        categorical_model(spaces.Box(0, 255, (1, 8, 8), dtype=np.uint8), 2, "cpu", encoder="nature_cnn")
    with pytest.raises(ValueError, match="an encoder reads the states"):
        deterministic_model(FRAMES, 2, "cpu", encoder="nature_cnn", input_shape="ACTIONS")


def test_images_without_an_encoder_are_flat_scaled_pixel_rows():
    space = spaces.Box(0, 255, (1, 2, 2), dtype=np.uint8)
    model = deterministic_model(space, 1, "cpu", hiddens=[], output_shape="ONE", output_activation=None)
    torch.nn.init.ones_(model.net[0].weight)
    torch.nn.init.zeros_(model.net[0].bias)
    out = model.compute({"states": torch.full((1, 1, 2, 2), 255, dtype=torch.uint8)})[0]
    assert torch.allclose(out, torch.tensor([[4.0]]))
