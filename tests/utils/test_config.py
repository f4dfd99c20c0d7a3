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


@dataclass(kw_only=True)
class Section(Config):
    KIND = "section"
    value: int = 1


@dataclass(kw_only=True)
class Example(Config):
    KIND = "example"
    rate: float = 0.5
    section: Section = field(default_factory=Section)


def test_a_config_reads_like_its_public_dict():
    config = PPOConfig.from_dict({"lambda": 0.9})
    assert config.get("lambda") == 0.9 and config.get("lamda") is None and config.get("lamda", 3) == 3
    assert "lambda" in config and "gae_lambda" not in config
    assert dict(config)["lambda"] == 0.9 and list(config) == list(PPO_DEFAULT_CONFIG)
    assert dict(config.items()) == dict(config) and config.keys() == list(PPO_DEFAULT_CONFIG)
    assert isinstance(dict(config)["experiment"], Config)  # sections stay typed; to_dict() gives dicts


def test_unknown_keys_are_kept_with_allow_unknown_and_read_like_fields():
    config = Example.from_dict({"rate": "0.25", "my_key": 3, "other": [1]}, allow_unknown=True)
    assert config.rate == 0.25 and config["rate"] == 0.25
    assert config["my_key"] == 3 and config.get("my_key") == 3 and config.get("missing", 7) == 7
    assert "my_key" in config and config.extras == {"my_key": 3, "other": [1]}
    assert config.to_dict() == {"rate": 0.25, "section": {"value": 1}, "my_key": 3, "other": [1]}
    assert config.keys() == ["rate", "section", "my_key", "other"]


def test_extra_keys_are_per_instance_and_survive_a_copy():
    lenient = Example.from_dict({"my_key": 3}, allow_unknown=True)
    assert Example.from_dict({}).extras == {} and Example().extras == {}
    copied = Example.from_dict(lenient)
    assert copied.extras == {"my_key": 3} and copied is not lenient
    copied.extras["my_key"] = 4  # `extras` is a copy
    assert copied["my_key"] == 3


def test_unknown_keys_are_still_rejected_by_default_and_in_nested_sections():
    with pytest.raises(ConfigKeyError, match='unknown example config key "rat" \\(did you mean "rate"\\?\\)'):
        Example.from_dict({"rat": 1})
    with pytest.raises(ConfigKeyError, match=r'section config key "valu" \(did you mean "value"\?\)'):
        Example.from_dict({"my_key": 1, "section": {"valu": 2}}, allow_unknown=True)


def test_reading_a_missing_key_names_the_nearest_key_including_extras():
    config = Example.from_dict({"my_key": 3}, allow_unknown=True)
    with pytest.raises(ConfigKeyError, match='unknown config key "my_kye" \\(did you mean "my_key"\\?\\)'):
        config["my_kye"]


def test_a_config_of_another_class_is_read_as_its_public_dict():
    lenient = Section.from_dict({"value": 5, "rate": 0.75}, allow_unknown=True)
    config = Example.from_dict(lenient, allow_unknown=True)
    assert type(config) is Example and config.rate == 0.75 and config.extras == {"value": 5}
    with pytest.raises(ConfigKeyError, match='unknown example config key "value"'):
        Example.from_dict(Section())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("learning_rate", float("inf"), r'"learning_rate" must be a finite number, got inf'),
        ("discount_factor", float("nan"), r'"discount_factor" must be a finite number, got nan'),
        ("entropy_loss_scale", float("nan"), r'"entropy_loss_scale" must be a finite number'),
        ("learning_rate", [1e-3], r'"learning_rate" must be a number, got \[0.001\] \(list\)'),
        ("rollouts", 16.5, r'"rollouts" must be an integer, got 16.5'),
    ],
)
def test_non_finite_and_non_numeric_values_are_refused_with_the_key(key, value, message):
    from rlblocks.agents.torch.ppo import PPOConfig

    with pytest.raises(ValueError, match=message):
        PPOConfig.from_dict({key: value})


def test_whole_floats_become_ints_for_int_keys():
    from rlblocks.agents.torch.ppo import PPOConfig

    assert PPOConfig.from_dict({"rollouts": 32.0}).rollouts == 32
    assert isinstance(PPOConfig.from_dict({"rollouts": 32.0}).rollouts, int)
