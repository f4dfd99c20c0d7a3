"""Model.migrate: name_map, logging, the return value, and an unchanged model on failure."""

from __future__ import annotations

import collections
import logging
import pathlib

import gymnasium as gym
import pytest
import torch
from torch import nn

from tests.utils.migration.models import Critic, GaussianPolicy, SharedActorCritic, Value

DATA = pathlib.Path(__file__).parents[2] / "data" / "checkpoints"
CARTPOLE_CONTINUOUS = (gym.spaces.Box(-5, 5, (4,)), gym.spaces.Box(-1, 1, (1,)))
PENDULUM = (gym.spaces.Box(-8, 8, (3,)), gym.spaces.Box(-2, 2, (1,)))
SHAPES = [  # the rl_games listing of the skrl documentation's example, in file order
    ("value_mean_std.running_mean", [1]),
    ("value_mean_std.running_var", [1]),
    ("value_mean_std.count", []),
    ("running_mean_std.running_mean", [4]),
    ("running_mean_std.running_var", [4]),
    ("running_mean_std.count", []),
    ("a2c_network.sigma", [1]),
    ("a2c_network.actor_mlp.0.weight", [32, 4]),
    ("a2c_network.actor_mlp.0.bias", [32]),
    ("a2c_network.actor_mlp.2.weight", [32, 32]),
    ("a2c_network.actor_mlp.2.bias", [32]),
    ("a2c_network.value.weight", [1, 32]),
    ("a2c_network.value.bias", [1]),
    ("a2c_network.mu.weight", [1, 32]),
    ("a2c_network.mu.bias", [1]),
]
NAME_MAP = {
    "log_std_parameter": "a2c_network.sigma",
    "net.0.bias": "a2c_network.actor_mlp.0.bias",
    "net.2.bias": "a2c_network.actor_mlp.2.bias",
    "net.4.weight": "a2c_network.mu.weight",
    "net.4.bias": "a2c_network.mu.bias",
}


@pytest.fixture
def rl_games_cartpole(tmp_path):
    """An rl_games-style checkpoint with the documentation example's names and shapes."""
    generator = torch.Generator().manual_seed(0)
    model = collections.OrderedDict((name, torch.randn(shape, generator=generator)) for name, shape in SHAPES)
    path = tmp_path / "Cartpole.pth"
    torch.save({"model": model, "epoch": 10, "optimizer": {"state": {}, "param_groups": []}}, path)
    return path, model


def policy(hidden=(32, 32)):
    return GaussianPolicy(*CARTPOLE_CONTINUOUS, nn.ELU, hidden=hidden)


def messages(caplog, level):
    return [record.getMessage() for record in caplog.records if record.levelno == level]


def snapshot(model):
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


def assert_unchanged(model, before):
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())


def test_documentation_example_migrates_correctly_without_name_map(rl_games_cartpole, caplog):
    path, source = rl_games_cartpole
    model = policy()
    assert model.migrate(path=str(path)) is True
    assert messages(caplog, logging.WARNING) == []
    assert torch.equal(model.log_std_parameter, source["a2c_network.sigma"])
    assert torch.equal(model.net[0].weight, source["a2c_network.actor_mlp.0.weight"])
    assert torch.equal(model.net[2].bias, source["a2c_network.actor_mlp.2.bias"])
    assert torch.equal(model.net[4].weight, source["a2c_network.mu.weight"])
    assert not model.training


def test_documentation_example_with_name_map_logs_like_the_text(rl_games_cartpole, caplog):
    path, _ = rl_games_cartpole
    caplog.set_level(logging.INFO, logger="rlblocks")
    assert policy().migrate(path=str(path), name_map=NAME_MAP, verbose=True) is True
    lines = messages(caplog, logging.INFO)
    assert lines[:4] == [
        "Models",
        "  |-- current: 7 items",
        "  |    |-- log_std_parameter : torch.Size([1])",
        "  |    |-- net.0.weight : torch.Size([32, 4])",
    ]
    assert lines[9:12] == [
        "  |-- source: 15 items",
        "  |    |-- value_mean_std.running_mean : torch.Size([1])",
        "  |    |-- value_mean_std.running_var : torch.Size([1])",
    ]
    start = lines.index("Migration")
    assert lines[start : start + 8] == [
        "Migration",
        "  |-- map:  log_std_parameter <- a2c_network.sigma",
        "  |-- auto: net.0.weight <- a2c_network.actor_mlp.0.weight",
        "  |-- map:  net.0.bias <- a2c_network.actor_mlp.0.bias",
        "  |-- auto: net.2.weight <- a2c_network.actor_mlp.2.weight",
        "  |-- map:  net.2.bias <- a2c_network.actor_mlp.2.bias",
        "  |-- map:  net.4.weight <- a2c_network.mu.weight",
        "  |-- map:  net.4.bias <- a2c_network.mu.bias",
    ]
    assert lines[start + 8] == "  |-- unused: value_mean_std (3), running_mean_std (3), a2c_network.value (2)"
    assert messages(caplog, logging.WARNING) == []


def test_name_map_overrides_the_automatic_choice(rl_games_cartpole):
    path, source = rl_games_cartpole
    model = policy()
    name_map = {"net.4.weight": "a2c_network.value.weight", "net.4.bias": "a2c_network.value.bias"}
    assert model.migrate(path=str(path), name_map=name_map) is True
    assert torch.equal(model.net[4].weight, source["a2c_network.value.weight"])
    assert torch.equal(model.net[0].weight, source["a2c_network.actor_mlp.0.weight"])


def test_name_map_with_a_wrong_shape_warns_and_loads_nothing(rl_games_cartpole, caplog):
    path, _ = rl_games_cartpole
    model = policy()
    before = snapshot(model)
    assert model.migrate(path=str(path), name_map={"net.4.weight": "a2c_network.actor_mlp.0.weight"}) is False
    assert messages(caplog, logging.WARNING) == [
        "Shape mismatch for net.4.weight <- a2c_network.actor_mlp.0.weight : "
        "torch.Size([1, 32]) != torch.Size([32, 4])",
        "Missing match for net.4.weight: its name_map entry 'a2c_network.actor_mlp.0.weight' cannot be used",
        f"Migration incomplete: 1 of 7 tensors of the model got no tensor from {path}; "
        "the model is unchanged",
    ]
    assert_unchanged(model, before)


def test_name_map_naming_an_absent_source_tensor_warns_with_a_suggestion(rl_games_cartpole, caplog):
    path, _ = rl_games_cartpole
    assert policy().migrate(path=str(path), name_map={"net.4.bias": "a2c_network.mu.bais"}) is False
    assert messages(caplog, logging.WARNING)[0] == (
        "name_map: the source has no tensor 'a2c_network.mu.bais' (for net.4.bias) "
        '(did you mean "a2c_network.mu.bias"?)'
    )


def test_name_map_key_that_is_not_a_model_tensor_is_an_error(rl_games_cartpole):
    path, _ = rl_games_cartpole
    with pytest.raises(ValueError, match=r"'net.4.weights' is not \(did you mean \"net.4.weight\"\?\)"):
        policy().migrate(path=str(path), name_map={"net.4.weights": "a2c_network.mu.weight"})


def test_model_with_more_layers_than_the_source_returns_false_unchanged(rl_games_cartpole, caplog):
    path, _ = rl_games_cartpole
    model = policy(hidden=(32, 32, 32))
    model.train()
    before = snapshot(model)
    assert model.migrate(path=str(path)) is False
    assert_unchanged(model, before)
    assert model.training  # not even switched to eval mode
    warnings = messages(caplog, logging.WARNING)
    assert warnings[0].startswith("Missing match for net.0.weight (32, 4): source layers with these tensors")
    assert warnings[-1].startswith("Migration incomplete: 8 of 9 tensors")


def test_without_auto_mapping_only_name_map_is_used(rl_games_cartpole, caplog):
    path, _ = rl_games_cartpole
    assert policy().migrate(path=str(path), name_map=NAME_MAP, auto_mapping=False) is False
    assert "Missing match for net.0.weight: not in name_map, and auto_mapping is off" in messages(
        caplog, logging.WARNING
    )


def test_genuinely_ambiguous_case_warns_loads_nothing_and_name_map_resolves_it(caplog):
    """One shared trunk against SB3 PPO's two separate trunks: no hint can choose."""
    model = SharedActorCritic(*PENDULUM, activation=nn.Tanh)
    before = snapshot(model)
    path = str(DATA / "sb3_ppo_pendulum.zip")
    assert model.migrate(path=path) is False
    assert_unchanged(model, before)
    assert messages(caplog, logging.WARNING)[0] == (
        "Ambiguous match for net.0.weight <- [mlp_extractor.policy_net.0.weight, "
        "mlp_extractor.value_net.0.weight]: equally good by shape, structure and names; nothing loaded "
        "for it (choose one with name_map)"
    )
    assert model.migrate(path=path, name_map={"net.0.weight": "mlp_extractor.policy_net.0.weight"}) is True
    truth = torch.load(DATA / "sb3_ppo_pendulum.groundtruth.pt", weights_only=True)
    assert torch.equal(model.net[2].weight, truth["state_dict"]["mlp_extractor.policy_net.2.weight"])


def test_own_checkpoint_round_trip_even_with_equal_shapes(tmp_path):
    """skrl 0.10 returned False for its own state dict when two tensors shared a shape."""
    source = policy()
    source.save(str(tmp_path / "policy.pt"))
    target = policy()
    assert target.migrate(path=str(tmp_path / "policy.pt")) is True
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))


def test_agent_checkpoint_gives_each_model_its_own_entry():
    policy_model, value_model = GaussianPolicy(*PENDULUM, nn.Tanh), Value(*PENDULUM, nn.Tanh)
    optimizer = torch.optim.Adam([*policy_model.parameters(), *value_model.parameters()])
    checkpoint = {
        "policy": policy_model.state_dict(),
        "value": value_model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "_rlblocks": {"format_version": 1, "rng_states": {"torch": torch.get_rng_state()}},
    }
    new_policy, new_value = GaussianPolicy(*PENDULUM, nn.Tanh), Value(*PENDULUM, nn.Tanh)
    assert new_policy.migrate(state_dict=checkpoint) and new_value.migrate(state_dict=checkpoint)
    assert torch.equal(new_policy.net[4].weight, policy_model.net[4].weight)
    assert torch.equal(new_value.net[4].weight, value_model.net[4].weight)


def test_migration_role_attribute_picks_the_second_critic():
    critic = Critic(*PENDULUM, role="critic")
    critic.migration_role = "critic_2"
    assert critic.migrate(path=str(DATA / "sb3_sac_pendulum.zip")) is True
    truth = torch.load(DATA / "sb3_sac_pendulum.groundtruth.pt", weights_only=True)
    assert torch.equal(critic.net[0].weight, truth["state_dict"]["critic.qf1.0.weight"])


def test_dataparallel_prefix_and_float64_source():
    source = GaussianPolicy(*PENDULUM, nn.Tanh)
    state_dict = {f"module.{name}": tensor.double() for name, tensor in source.state_dict().items()}
    target = GaussianPolicy(*PENDULUM, nn.Tanh)
    assert target.migrate(state_dict=state_dict) is True
    assert target.net[0].weight.dtype == torch.float32
    assert torch.equal(target.net[0].weight, source.net[0].weight)


def test_rl_games_source_mentions_its_normalization(rl_games_cartpole, caplog):
    path, _ = rl_games_cartpole
    caplog.set_level(logging.INFO, logger="rlblocks")
    policy().migrate(path=str(path))
    assert messages(caplog, logging.INFO) == [
        f"{path} also normalises observations (running_mean_std) and values (value_mean_std); the model "
        "alone will not act like the source: load them with rlblocks.utils.migration.load_normalization()"
    ]
