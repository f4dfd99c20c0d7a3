"""Models from their config descriptions, via `rlblocks.utils.model_instantiators`.

A description is a mapping with ``kind`` (gaussian, multivariate_gaussian, deterministic,
categorical, tabular: an ε-greedy Q-table) and the keyword arguments of that instantiator, e.g.::

    policy: {kind: gaussian, hiddens: [64, 64], hidden_activation: tanh, output_scale: 2.0}

For image observations (a uint8 Box, `rlblocks.utils.images`) a description without an
``encoder`` gets the Nature CNN (``encoder: {type: nature_cnn}``); ``encoder: null`` reads the
pixels with the MLP alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch

from rlblocks.agents.torch.tabular import EpsilonGreedyTabularPolicy
from rlblocks.cli.registry import Algorithm, CLIError, roles_by_entry
from rlblocks.models.torch import Model
from rlblocks.utils import model_instantiators
from rlblocks.utils.images import is_image_space
from rlblocks.utils.suggest import did_you_mean

INSTANTIATORS = {
    "gaussian": model_instantiators.gaussian_model,
    "multivariate_gaussian": model_instantiators.multivariate_gaussian_model,
    "deterministic": model_instantiators.deterministic_model,
    "categorical": model_instantiators.categorical_model,
    "tabular": EpsilonGreedyTabularPolicy,
}
"""Model kinds a config may name."""
DEFAULT_IMAGE_ENCODER = {"type": "nature_cnn"}
"""The encoder of a model description for image observations that names none."""


def build_model(
    entry: str,
    description: Mapping[str, Any],
    observation_space: Any,
    action_space: Any,
    device: torch.device,
) -> Model:
    """One model from its description.

    Raises:
        CLIError: an unknown kind or argument (the message names the nearest), or a bad value.
    """
    description = dict(description)
    kind = str(description.pop("kind", ""))
    if kind not in INSTANTIATORS:
        raise CLIError(
            f'models.{entry}: unknown kind "{kind}"{did_you_mean(kind, INSTANTIATORS)}; '
            f"use one of {', '.join(INSTANTIATORS)}"
        )
    instantiator = INSTANTIATORS[kind]
    accepted = [name for name in inspect.signature(instantiator).parameters if name not in _SPACES]
    for name in description:
        if name not in accepted:
            raise CLIError(
                f'models.{entry}: unknown {kind} model argument "{name}"{did_you_mean(name, accepted)}; '
                f"valid: {', '.join(accepted)}"
            )
    if kind != "tabular" and "encoder" not in description and is_image_space(observation_space):
        description["encoder"] = DEFAULT_IMAGE_ENCODER
    try:
        return instantiator(observation_space, action_space, device, **description)
    except ValueError as error:
        raise CLIError(f"models.{entry}: {error}") from None


_SPACES = ("observation_space", "action_space", "device")


def build_models(
    algorithm: Algorithm,
    descriptions: Mapping[str, Mapping[str, Any]],
    observation_space: Any,
    action_space: Any,
    device: torch.device,
) -> dict[str, Model]:
    """Every model the algorithm needs, by agent role (a target network is a fresh copy of its source).

    Raises:
        CLIError: a description is missing or invalid.
    """
    models = {}
    for entry, roles in roles_by_entry(algorithm).items():
        if entry not in descriptions:
            raise CLIError(
                f"{algorithm.display_name} needs a models.{entry} description; the config has "
                f"{sorted(descriptions)}"
            )
        for role in roles:
            models[role] = build_model(entry, descriptions[entry], observation_space, action_space, device)
    return models
