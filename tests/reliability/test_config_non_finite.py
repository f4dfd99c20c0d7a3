"""Every numeric config key of every agent refuses NaN and ±inf, naming the key; bounded keys check bounds."""

from __future__ import annotations

import dataclasses
import math
import typing

import pytest

from rlblocks.agents.torch.a2c.config import A2CConfig
from rlblocks.agents.torch.cem.config import CEMConfig
from rlblocks.agents.torch.ddpg.config import DDPGConfig
from rlblocks.agents.torch.dqn.config import DDQNConfig, DQNConfig
from rlblocks.agents.torch.ppo.config import PPOConfig
from rlblocks.agents.torch.q_learning.config import QLearningConfig
from rlblocks.agents.torch.rpo.config import RPOConfig
from rlblocks.agents.torch.sac.config import SACConfig
from rlblocks.agents.torch.sarsa.config import SARSAConfig
from rlblocks.agents.torch.td3.config import TD3Config
from rlblocks.agents.torch.trpo.config import TRPOConfig
from rlblocks.utils.config import Config

AGENT_CONFIGS = [
    A2CConfig,
    CEMConfig,
    DDPGConfig,
    DDQNConfig,
    DQNConfig,
    PPOConfig,
    QLearningConfig,
    RPOConfig,
    SACConfig,
    SARSAConfig,
    TD3Config,
    TRPOConfig,
]


def numeric_keys(config_class: type[Config], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (section, ..., public key) of every int/float field, nested sections included."""
    hints = typing.get_type_hints(config_class)
    paths = []
    for field in dataclasses.fields(config_class):
        hint = hints[field.name]
        key = config_class.public_key(field.name)
        if isinstance(hint, type) and issubclass(hint, Config):
            paths += numeric_keys(hint, (*prefix, key))
            continue
        options = typing.get_args(hint) or (hint,)
        if float in options or int in options:
            paths.append((*prefix, key))
    return paths


def nested(path: tuple[str, ...], value) -> dict:
    cfg = value
    for key in reversed(path):
        cfg = {key: cfg}
    return cfg


def field_path(config_class: type[Config], path: tuple[str, ...]) -> tuple[type[Config], str]:
    """The config class holding the last key of ``path`` and that key's field name."""
    hints = typing.get_type_hints(config_class)
    by_key = {config_class.public_key(field.name): field.name for field in dataclasses.fields(config_class)}
    name = by_key[path[0]]
    if len(path) == 1:
        return config_class, name
    return field_path(hints[name], path[1:])


CASES = [
    (config_class, path, value)
    for config_class in AGENT_CONFIGS
    for path in numeric_keys(config_class)
    for value in (math.nan, math.inf, -math.inf)
]


@pytest.mark.parametrize(
    ("config_class", "path", "value"),
    CASES,
    ids=[f"{c.__name__}-{'.'.join(p)}-{v}" for c, p, v in CASES],
)
def test_from_dict_refuses_non_finite_values_naming_the_key(config_class, path, value):
    with pytest.raises(ValueError, match=f'"{path[-1]}" must be a finite number, got {value}'):
        config_class.from_dict(nested(path, value))


@pytest.mark.parametrize(
    ("config_class", "path", "value"),
    CASES,
    ids=[f"{c.__name__}-{'.'.join(p)}-{v}" for c, p, v in CASES],
)
def test_the_dataclass_refuses_non_finite_values_too(config_class, path, value):
    holder, name = field_path(config_class, path)
    with pytest.raises(ValueError, match=f'"{path[-1]}" must be a finite number, got {value}'):
        holder(**{name: value})


def test_every_agent_has_numeric_keys_to_check():
    assert all(len(numeric_keys(config_class)) >= 3 for config_class in AGENT_CONFIGS)


BOUNDED_BY_ONE = (
    ("discount_factor",),
    ("lambda",),
    ("polyak",),
    ("percentile",),
    ("step_fraction",),
    ("exploration", "initial_epsilon"),
    ("exploration", "final_epsilon"),
)
UPPER_BOUNDS = [
    (config_class, path)
    for config_class in AGENT_CONFIGS
    for path in BOUNDED_BY_ONE
    if path in numeric_keys(config_class)
] + [(QLearningConfig, ("learning_rate",)), (SARSAConfig, ("learning_rate",))]  # tabular α


@pytest.mark.parametrize(
    ("config_class", "path"), UPPER_BOUNDS, ids=[f"{c.__name__}-{'.'.join(p)}" for c, p in UPPER_BOUNDS]
)
def test_keys_with_a_natural_upper_bound_of_one_refuse_values_above_it(config_class, path):
    with pytest.raises(ValueError, match=f'"{path[-1]}" must be .*<= 1'):
        config_class.from_dict(nested(path, 1.5))
    config_class.from_dict(nested(path, 1.0))  # the bound itself is allowed


POSITIVE = [
    (config_class, key)
    for config_class in AGENT_CONFIGS
    for key in ("ratio_clip", "learning_rate", "actor_learning_rate", "critic_learning_rate", "batch_size")
    if key in config_class.defaults()
]


@pytest.mark.parametrize(("config_class", "key"), POSITIVE, ids=[f"{c.__name__}-{k}" for c, k in POSITIVE])
def test_keys_that_must_be_positive_refuse_zero(config_class, key):
    with pytest.raises(ValueError, match=f'"{key}" must be > 0'):
        config_class.from_dict({key: 0})
