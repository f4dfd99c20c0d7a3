"""skrl 0.10's factory functions: a spec from the explicit arguments, then the model from the spec.

The signatures are skrl's (names, order and defaults; the defaults come from the specs in
`rlblocks.utils.model_instantiators.spec`, where they are written once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from rlblocks.utils import spaces
from rlblocks.utils.model_instantiators.models import (
    CategoricalModel,
    DeterministicModel,
    GaussianModel,
    MultivariateGaussianModel,
)
from rlblocks.utils.model_instantiators.shapes import ShapeLike
from rlblocks.utils.model_instantiators.spec import (
    CATEGORICAL,
    DETERMINISTIC,
    GAUSSIAN,
    CategoricalSpec,
    DeterministicSpec,
    GaussianSpec,
    MLPSpec,
)

CONTINUOUS_KINDS = ("box", "int", "shape")
"""Action-space kinds a Gaussian policy samples from (a Box, or a size as skrl allows)."""
DISCRETE_KINDS = ("discrete", "int")
"""Action-space kinds a categorical policy samples from (a Discrete, or its number of actions)."""
_OTHER_FACTORY = {
    "box": "gaussian_model (or deterministic_model)",
    "discrete": "categorical_model",
    "multi_discrete": "multicategorical_model",
}


def check_action_space(factory: str, action_space: Any, kinds: Sequence[str]) -> None:
    """Refuse an action space the factory's distribution cannot sample (None: checked later).

    Raises:
        ValueError: naming the factory, the space and the factory that fits it.
    """
    if action_space is None:
        return
    kind = spaces.space_kind(action_space)
    if kind in kinds:
        return
    fitting = _OTHER_FACTORY.get(kind)
    hint = f"use {fitting}" if fitting else "flatten the action space with a gymnasium wrapper"
    raise ValueError(
        f"{factory} cannot sample actions of {action_space} (a {kind.replace('_', ' ')} space; it takes "
        f"{'Box' if 'box' in kinds else 'Discrete'} spaces); {hint} for this action space."
    )


def gaussian_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    clip_actions: bool = GAUSSIAN.clip_actions,
    clip_log_std: bool = GAUSSIAN.clip_log_std,
    min_log_std: float = GAUSSIAN.min_log_std,
    max_log_std: float = GAUSSIAN.max_log_std,
    input_shape: ShapeLike = GAUSSIAN.network.input_shape,
    hiddens: Sequence[int] = list(GAUSSIAN.network.hiddens),
    hidden_activation: str | Sequence[str] = list(GAUSSIAN.network.hidden_activation),
    output_shape: ShapeLike = GAUSSIAN.network.output_shape,
    output_activation: str | None = GAUSSIAN.network.output_activation,
    output_scale: float = GAUSSIAN.network.output_scale,
    reduction: str = GAUSSIAN.reduction,
    initial_log_std: float = GAUSSIAN.initial_log_std,
    rnn: Mapping[str, Any] | None = None,
    encoder: Any = None,
) -> GaussianModel:
    """A Gaussian policy: mean = ``output_scale · net(input)``, log-std a learned (A,) parameter.

    Args:
        observation_space: observation space (or its size).
        action_space: action space (or its size).
        device: where the model computes ("cuda:0" if available, else "cpu").
        clip_actions: clamp sampled actions to the Box action space's bounds.
        clip_log_std: clamp the log-std to [min_log_std, max_log_std].
        min_log_std: lower log-std bound.
        max_log_std: upper log-std bound.
        input_shape: what the network reads: STATES, ACTIONS, STATES_ACTIONS or ONE.
        hiddens: hidden layer sizes ([] for a linear model).
        hidden_activation: one activation per hidden layer, or one name for all.
        output_shape: output units (a `Shape` or an int).
        output_activation: activation of the output layer (None for none).
        output_scale: factor applied to the output, e.g. the action bound after a tanh.
        reduction: how the per-dimension log-prob is reduced: "sum", "mean", "prod" or "none".
        initial_log_std: initial value of every log-std entry.
        rnn: a recurrent layer before the hidden layers, e.g. ``{"type": "lstm", "hidden_size": 64,
            "num_layers": 1, "sequence_length": 16}`` (`RNNSpec`; "gru" and "rnn" too); None for none.
        encoder: a convolutional encoder of image states, e.g. ``{"type": "nature_cnn"}`` or
            ``[{"conv": [32, 8, 4]}, {"conv": [64, 4, 2]}, {"linear": 256}]`` (`EncoderSpec`); its
            features feed the network instead of the states. None for none.

    Raises:
        ValueError: an unknown activation, shape or reduction, or mismatched hidden activations.
    """
    network = MLPSpec(
        input_shape, hiddens, hidden_activation, output_shape, output_activation, output_scale, rnn, encoder
    )
    spec = GaussianSpec(
        network, clip_actions, clip_log_std, min_log_std, max_log_std, reduction, initial_log_std
    )
    check_action_space("gaussian_model", action_space, CONTINUOUS_KINDS)
    return GaussianModel(observation_space, action_space, device, spec)


def multivariate_gaussian_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    clip_actions: bool = GAUSSIAN.clip_actions,
    clip_log_std: bool = GAUSSIAN.clip_log_std,
    min_log_std: float = GAUSSIAN.min_log_std,
    max_log_std: float = GAUSSIAN.max_log_std,
    input_shape: ShapeLike = GAUSSIAN.network.input_shape,
    hiddens: Sequence[int] = list(GAUSSIAN.network.hiddens),
    hidden_activation: str | Sequence[str] = list(GAUSSIAN.network.hidden_activation),
    output_shape: ShapeLike = GAUSSIAN.network.output_shape,
    output_activation: str | None = GAUSSIAN.network.output_activation,
    output_scale: float = GAUSSIAN.network.output_scale,
    initial_log_std: float = GAUSSIAN.initial_log_std,
    rnn: Mapping[str, Any] | None = None,
    encoder: Any = None,
) -> MultivariateGaussianModel:
    """A Gaussian policy whose log-prob is the joint one; arguments as in `gaussian_model`."""
    network = MLPSpec(
        input_shape, hiddens, hidden_activation, output_shape, output_activation, output_scale, rnn, encoder
    )
    spec = GaussianSpec(
        network, clip_actions, clip_log_std, min_log_std, max_log_std, initial_log_std=initial_log_std
    )
    check_action_space("multivariate_gaussian_model", action_space, CONTINUOUS_KINDS)
    return MultivariateGaussianModel(observation_space, action_space, device, spec)


def deterministic_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    clip_actions: bool = DETERMINISTIC.clip_actions,
    input_shape: ShapeLike = DETERMINISTIC.network.input_shape,
    hiddens: Sequence[int] = list(DETERMINISTIC.network.hiddens),
    hidden_activation: str | Sequence[str] = list(DETERMINISTIC.network.hidden_activation),
    output_shape: ShapeLike = DETERMINISTIC.network.output_shape,
    output_activation: str | None = DETERMINISTIC.network.output_activation,
    output_scale: float = DETERMINISTIC.network.output_scale,
    rnn: Mapping[str, Any] | None = None,
    encoder: Any = None,
) -> DeterministicModel:
    """A deterministic model (actor, value, critic, Q-network): ``output_scale · net(input)``.

    Arguments as in `gaussian_model`; a value or critic uses ``output_shape=Shape.ONE`` and
    ``output_activation=None``, a critic ``input_shape=Shape.STATES_ACTIONS``.
    """
    network = MLPSpec(
        input_shape, hiddens, hidden_activation, output_shape, output_activation, output_scale, rnn, encoder
    )
    return DeterministicModel(
        observation_space, action_space, device, DeterministicSpec(network, clip_actions)
    )


def categorical_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    unnormalized_log_prob: bool = CATEGORICAL.unnormalized_log_prob,
    input_shape: ShapeLike = CATEGORICAL.network.input_shape,
    hiddens: Sequence[int] = list(CATEGORICAL.network.hiddens),
    hidden_activation: str | Sequence[str] = list(CATEGORICAL.network.hidden_activation),
    output_shape: ShapeLike = CATEGORICAL.network.output_shape,
    output_activation: str | None = CATEGORICAL.network.output_activation,
    rnn: Mapping[str, Any] | None = None,
    encoder: Any = None,
) -> CategoricalModel:
    """A categorical policy over a Discrete action space: ``net`` gives logits.

    Args:
        observation_space: observation space (or its size).
        action_space: action space (or its size).
        device: where the model computes.
        unnormalized_log_prob: the network gives logits (True) or probabilities (False, which
            needs ``output_activation="softmax"``).
        input_shape: what the network reads (see `gaussian_model`).
        hiddens: hidden layer sizes.
        hidden_activation: one activation per hidden layer, or one name for all.
        output_shape: output units (one per action).
        output_activation: activation of the output layer.
        rnn: a recurrent layer before the hidden layers (see `gaussian_model`).
        encoder: a convolutional encoder of image states (see `gaussian_model`).

    Raises:
        ValueError: probabilities asked for without a softmax output, or an argument error as in
            `gaussian_model`.
    """
    network = MLPSpec(
        input_shape, hiddens, hidden_activation, output_shape, output_activation, rnn=rnn, encoder=encoder
    )
    spec = CategoricalSpec(network, unnormalized_log_prob)
    check_action_space("categorical_model", action_space, DISCRETE_KINDS)
    return CategoricalModel(observation_space, action_space, device, spec)
