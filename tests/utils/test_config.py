from dataclasses import dataclass, field

import pytest

from rlblocks.agents.torch.ppo import PPO_DEFAULT_CONFIG, PPOConfig
from rlblocks.utils.config import Config, ConfigKeyError


def test_unknown_key_names_the_nearest_valid_key():
    with pytest.raises(KeyError, match='unknown PPO config key "lamda" \\(did you mean "lambda"\\?\\)'):
        PPOConfig.from_dict({"lamda": 0.9})


def test_unknown_nested_key_names_the_section_and_nearest_key():
    with pytest.raises(
        ConfigKeyError, match='unknown experiment config key "write_intervl".*"write_interval"'
    ):
        PPOConfig.from_dict({"experiment": {"write_intervl": 10}})


def test_nested_sections_merge_deeply():
    config = PPOConfig.from_dict({"experiment": {"write_interval": 0}})
    assert config.experiment.write_interval == 0
    assert config.experiment.checkpoint_interval == PPO_DEFAULT_CONFIG["experiment"]["checkpoint_interval"]


def test_out_of_range_values_are_rejected():
    with pytest.raises(ValueError, match='"lambda" must be >= 0.0 and <= 1.0, got 1.5'):
        PPOConfig.from_dict({"lambda": 1.5})
    with pytest.raises(ValueError, match='"rollouts" must be > 0'):
        PPOConfig.from_dict({"rollouts": 0})


def test_numeric_strings_from_yaml_are_coerced_and_wrong_types_rejected():
    config = PPOConfig.from_dict({"learning_rate": "3e-4", "rollouts": "32"})
    assert config.learning_rate == 3e-4 and config.rollouts == 32
    with pytest.raises(ValueError, match='"learning_rate" must be a number'):
        PPOConfig.from_dict({"learning_rate": "fast"})


def test_default_dict_round_trips_and_is_readable_by_public_key():
    config = PPOConfig.from_dict(PPO_DEFAULT_CONFIG)
    assert config.to_dict() == PPO_DEFAULT_CONFIG
    assert config["lambda"] == 0.95 and config.gae_lambda == 0.95
    assert PPO_DEFAULT_CONFIG["rollouts"] == 16 and PPO_DEFAULT_CONFIG["learning_epochs"] == 8


def test_section_must_be_a_dict():
    @dataclass(kw_only=True)
    class Inner(Config):
        value: int = 1

    @dataclass(kw_only=True)
    class Outer(Config):
        inner: Inner = field(default_factory=Inner)

    with pytest.raises(ValueError, match='section "inner" must be a dict'):
        Outer.from_dict({"inner": 3})
