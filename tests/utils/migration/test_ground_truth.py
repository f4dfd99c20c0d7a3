"""Migrated models reproduce the source libraries' own outputs (tests/data/checkpoints/README.md).

Every checkpoint is migrated with no name_map, into the model an rlblocks user would write for it,
and its outputs on the stored observations are compared with the ones stable-baselines3 or
rl_games computed: atol 1e-5. On the out-of-distribution batch (6 x obs) some SB3 Q-values reach
358, where one float32 step is 3e-5, so that batch also allows rtol 1e-6 (about 8 float32 steps).
"""

from __future__ import annotations

import collections
import pathlib

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from rlblocks.utils.migration import load_normalization
from tests.utils.migration.models import (
    CategoricalPolicy,
    Critic,
    DeterministicActor,
    GaussianPolicy,
    QNetwork,
    SharedActorCritic,
    SquashedGaussianPolicy,
    Value,
)

DATA = pathlib.Path(__file__).parents[2] / "data" / "checkpoints"
PENDULUM = (
    gym.spaces.Box(-np.array([1, 1, 8]), np.array([1, 1, 8]), dtype=np.float32),
    gym.spaces.Box(-2, 2, (1,)),
)
CARTPOLE = (gym.spaces.Box(-np.inf, np.inf, (4,), dtype=np.float32), gym.spaces.Discrete(2))
BATCHES = {
    "in-distribution": ("obs", "outputs", 0.0),
    "out-of-distribution": ("obs_ood", "outputs_ood", 1e-6),
}

Batch = collections.namedtuple("Batch", "obs outputs rtol truth")


@pytest.fixture(params=list(BATCHES))
def batch_name(request):
    return request.param


def batch(name: str, which: str) -> Batch:
    truth = torch.load(DATA / f"{name}.groundtruth.pt", weights_only=True)
    obs_key, outputs_key, rtol = BATCHES[which]
    return Batch(truth[obs_key], truth[outputs_key], rtol, truth)


def assert_matches(actual, expected, rtol):
    torch.testing.assert_close(actual.detach().float(), expected.float(), atol=1e-5, rtol=rtol)


def migrate(model, name, **kwargs):
    path = DATA / (name + (".zip" if name.startswith("sb3") else ".pth"))
    assert model.migrate(path=str(path), **kwargs) is True
    return model


# ---------------------------------------------------------------- stable-baselines3
def test_sb3_ppo_continuous_policy_and_value(batch_name):
    b = batch("sb3_ppo_pendulum", batch_name)
    policy = migrate(GaussianPolicy(*PENDULUM, nn.Tanh), "sb3_ppo_pendulum")
    value = migrate(Value(*PENDULUM, nn.Tanh), "sb3_ppo_pendulum")
    _, log_prob, outputs = policy.act({"states": b.obs, "taken_actions": b.outputs["mean_actions"]}, "policy")
    assert_matches(outputs["mean_actions"], b.outputs["mean_actions"], b.rtol)
    assert_matches(policy.get_log_std("policy").exp(), b.outputs["std"], b.rtol)
    assert_matches(log_prob.squeeze(-1), b.outputs["log_prob_of_mean_actions"], b.rtol)
    assert_matches(value.act({"states": b.obs}, "value")[0], b.outputs["values"], b.rtol)
    predict_key = "predict_deterministic_actions" + ("_ood" if b.rtol else "")
    assert_matches(outputs["mean_actions"].clamp(-2, 2), b.truth[predict_key], b.rtol)


def test_sb3_ppo_discrete_policy_and_value(batch_name):
    b = batch("sb3_ppo_cartpole", batch_name)
    policy = migrate(CategoricalPolicy(*CARTPOLE, nn.Tanh), "sb3_ppo_cartpole")
    value = migrate(Value(*CARTPOLE, nn.Tanh), "sb3_ppo_cartpole")
    greedy = b.outputs["probs"].argmax(-1, keepdim=True)
    _, log_prob, outputs = policy.act({"states": b.obs, "taken_actions": greedy}, "policy")
    assert_matches(outputs["net_output"], b.outputs["logits"], b.rtol)
    assert_matches(outputs["net_output"].softmax(-1), b.outputs["probs"], b.rtol)
    assert_matches(log_prob.squeeze(-1), b.outputs["log_prob_of_deterministic_actions"], b.rtol)
    assert_matches(value.act({"states": b.obs}, "value")[0], b.outputs["values"], b.rtol)


def test_sb3_sac_policy_and_four_critics(batch_name):
    b = batch("sb3_sac_pendulum", batch_name)
    policy = migrate(SquashedGaussianPolicy(*PENDULUM), "sb3_sac_pendulum")
    mean, log_std, _ = policy.compute({"states": b.obs})
    assert_matches(mean, b.outputs["mean_actions"], b.rtol)
    assert_matches(log_std, b.outputs["log_std_unclamped"], b.rtol)
    policy.act({"states": b.obs}, "policy")
    assert_matches(policy.get_log_std("policy"), b.outputs["log_std"], b.rtol)  # clamped to [-20, 2]
    assert_matches(2 * torch.tanh(mean), b.outputs["actions_unscaled"], b.rtol)
    squashed = {"states": b.obs, "taken_actions": b.outputs["actions_squashed"]}
    for index, role in enumerate(["critic_1", "critic_2"]):
        critic = migrate(Critic(*PENDULUM, role=role), "sb3_sac_pendulum")
        target = migrate(Critic(*PENDULUM, role=f"target_{role}"), "sb3_sac_pendulum")
        assert_matches(
            critic.act(squashed, role)[0], b.outputs["q_values_at_squashed_actions"][index], b.rtol
        )
        expected_target = b.outputs["target_q_values_at_squashed_actions"][index]
        assert_matches(target.act(squashed, f"target_{role}")[0], expected_target, b.rtol)


def test_sb3_ddpg_actor_critic_and_targets(batch_name):
    b = batch("sb3_ddpg_pendulum", batch_name)
    policy = migrate(DeterministicActor(*PENDULUM, role="policy"), "sb3_ddpg_pendulum")
    target_policy = migrate(DeterministicActor(*PENDULUM, role="target_policy"), "sb3_ddpg_pendulum")
    critic = migrate(Critic(*PENDULUM, role="critic"), "sb3_ddpg_pendulum")
    target_critic = migrate(Critic(*PENDULUM, role="target_critic"), "sb3_ddpg_pendulum")
    actions = policy.act({"states": b.obs}, "policy")[0]
    assert_matches(actions, b.outputs["actions_squashed"], b.rtol)
    assert_matches(2 * actions, b.outputs["actions_unscaled"], b.rtol)
    assert_matches(target_policy.act({"states": b.obs}, "target_policy")[0],
                   b.outputs["target_actor_actions_squashed"], b.rtol)  # fmt: skip
    inputs = {"states": b.obs, "taken_actions": b.outputs["actions_squashed"]}
    assert_matches(critic.act(inputs, "critic")[0], b.outputs["q_values_at_squashed_actions"][0], b.rtol)
    expected_target = b.outputs["target_q_values_at_squashed_actions"][0]
    assert_matches(target_critic.act(inputs, "target_critic")[0], expected_target, b.rtol)


def test_sb3_td3_two_critics_follow_role_numbers():
    """TD3 fixture made by make_extra_fixtures.py: critic_1 <- critic.qf0, critic_2 <- critic.qf1."""
    truth = torch.load(DATA / "sb3_td3_pendulum.groundtruth.pt", weights_only=True)
    obs, outputs = truth["obs"], truth["outputs"]
    policy = migrate(DeterministicActor(*PENDULUM, role="policy"), "sb3_td3_pendulum")
    target_policy = migrate(DeterministicActor(*PENDULUM, role="target_policy"), "sb3_td3_pendulum")
    assert_matches(policy.act({"states": obs}, "policy")[0], outputs["actions_squashed"], 0.0)
    assert_matches(target_policy.act({"states": obs}, "")[0], outputs["target_actor_actions_squashed"], 0.0)
    inputs = {"states": obs, "taken_actions": outputs["actions_squashed"]}
    for index, role in enumerate(["critic_1", "critic_2"]):
        critic = migrate(Critic(*PENDULUM, role=role), "sb3_td3_pendulum")
        target = migrate(Critic(*PENDULUM, role=f"target_{role}"), "sb3_td3_pendulum")
        assert_matches(critic.act(inputs, role)[0], outputs["q_values_at_squashed_actions"][index], 0.0)
        expected_target = outputs["target_q_values_at_squashed_actions"][index]
        assert_matches(target.act(inputs, role)[0], expected_target, 0.0)
    assert not torch.allclose(
        outputs["q_values_at_squashed_actions"][0], outputs["q_values_at_squashed_actions"][1]
    )


def test_sb3_dqn_q_network_and_target(batch_name):
    b = batch("sb3_dqn_cartpole", batch_name)
    q_network = migrate(QNetwork(*CARTPOLE, role="q_network"), "sb3_dqn_cartpole")
    target = migrate(QNetwork(*CARTPOLE, role="target_q_network"), "sb3_dqn_cartpole")
    q_values = q_network.act({"states": b.obs}, "q_network")[0]
    assert_matches(q_values, b.outputs["q_values"], b.rtol)
    assert torch.equal(q_values.argmax(-1), b.outputs["argmax_q"])
    assert_matches(target.act({"states": b.obs}, "target_q_network")[0], b.outputs["target_q_values"], b.rtol)


# -------------------------------------------------------------------------- rl_games
def rl_games_continuous_outputs(policy, value, path, obs):
    """mu, sigma, value and deterministic action the rl_games way, with the migrated statistics."""
    normalization = load_normalization(path=str(path))
    states = normalization.observations.normalize(obs)
    _, _, outputs = policy.act({"states": states}, "policy")
    normalized_value = value.act({"states": states}, "value")[0]
    return {
        "obs_normalized": states,
        "mu": outputs["mean_actions"],
        "sigma": policy.get_log_std("policy").exp(),
        "value_normalized": normalized_value,
        "value": normalization.values.denormalize(normalized_value),
        "actions_deterministic": 2 * outputs["mean_actions"].clamp(-1, 1),
    }


def test_rl_games_continuous_policy_value_and_normalization(batch_name):
    b = batch("rlg_ppo_continuous_pendulum", batch_name)
    policy = migrate(GaussianPolicy(*PENDULUM, nn.ELU), "rlg_ppo_continuous_pendulum")
    value = migrate(Value(*PENDULUM, nn.ELU), "rlg_ppo_continuous_pendulum")
    actual = rl_games_continuous_outputs(policy, value, DATA / "rlg_ppo_continuous_pendulum.pth", b.obs)
    for key, tensor in actual.items():
        assert_matches(tensor, b.outputs[key], b.rtol)


def test_rl_games_continuous_into_one_shared_model(batch_name):
    b = batch("rlg_ppo_continuous_pendulum", batch_name)
    model = migrate(SharedActorCritic(*PENDULUM), "rlg_ppo_continuous_pendulum")
    actual = rl_games_continuous_outputs(model, model, DATA / "rlg_ppo_continuous_pendulum.pth", b.obs)
    for key, tensor in actual.items():
        assert_matches(tensor, b.outputs[key], b.rtol)


def test_rl_games_discrete_policy_value_and_normalization(batch_name):
    b = batch("rlg_ppo_discrete_cartpole", batch_name)
    policy = migrate(CategoricalPolicy(*CARTPOLE, nn.ELU), "rlg_ppo_discrete_cartpole")
    value = migrate(Value(*CARTPOLE, nn.ELU), "rlg_ppo_discrete_cartpole")
    normalization = load_normalization(path=str(DATA / "rlg_ppo_discrete_cartpole.pth"))
    states = normalization.observations.normalize(b.obs)
    _, _, outputs = policy.act({"states": states}, "policy")
    normalized_value = value.act({"states": states}, "value")[0]
    assert_matches(states, b.outputs["obs_normalized"], b.rtol)
    assert_matches(outputs["net_output"], b.outputs["logits"], b.rtol)
    assert_matches(outputs["net_output"].log_softmax(-1), b.outputs["log_probs"], b.rtol)
    assert torch.equal(outputs["net_output"].argmax(-1), b.outputs["actions_deterministic"])
    assert_matches(normalized_value, b.outputs["value_normalized"], b.rtol)
    assert_matches(normalization.values.denormalize(normalized_value), b.outputs["value"], b.rtol)


def test_rl_games_torch_compiled_checkpoint(tmp_path, batch_name):
    """The same weights with every model key prefixed `_orig_mod.`, as torch.compile saves them."""
    b = batch("rlg_ppo_continuous_pendulum", batch_name)
    checkpoint = {
        "model": collections.OrderedDict(
            (f"_orig_mod.{k}", v) for k, v in b.truth["model_state_dict"].items()
        ),
        "epoch": 20,
        "last_mean_rewards": np.float32(-1234.5),
    }
    path = tmp_path / "compiled.pth"
    torch.save(checkpoint, path)
    policy = GaussianPolicy(*PENDULUM, nn.ELU)
    value = Value(*PENDULUM, nn.ELU)
    assert policy.migrate(path=str(path)) and value.migrate(path=str(path))
    actual = rl_games_continuous_outputs(policy, value, path, b.obs)
    for key, tensor in actual.items():
        assert_matches(tensor, b.outputs[key], b.rtol)


def test_rl_games_separate_critic_network_goes_to_the_value_model(tmp_path, batch_name):
    """`separate: True` adds critic_mlp after actor_mlp; the value head reads critic_mlp.

    The expected value is computed by hand from the manifest's formula with plain torch ops.
    """
    b = batch("rlg_ppo_continuous_pendulum", batch_name)
    generator = torch.Generator().manual_seed(3)
    critic_mlp = {
        "a2c_network.critic_mlp.0.weight": torch.randn(64, 3, generator=generator) * 0.3,
        "a2c_network.critic_mlp.0.bias": torch.randn(64, generator=generator) * 0.1,
        "a2c_network.critic_mlp.2.weight": torch.randn(64, 64, generator=generator) * 0.1,
        "a2c_network.critic_mlp.2.bias": torch.randn(64, generator=generator) * 0.1,
    }
    model = collections.OrderedDict()
    for key, tensor in b.truth["model_state_dict"].items():
        model[key] = tensor
        if key == "a2c_network.actor_mlp.2.bias":
            model.update(critic_mlp)
    path = tmp_path / "separate.pth"
    torch.save({"model": model, "epoch": 20, "last_mean_rewards": np.float32(-99.0)}, path)
    policy = migrate_from(GaussianPolicy(*PENDULUM, nn.ELU), path)
    value = migrate_from(Value(*PENDULUM, nn.ELU), path)

    obs_n = b.outputs["obs_normalized"]
    hidden = nn.functional.elu(
        obs_n @ critic_mlp["a2c_network.critic_mlp.0.weight"].T + critic_mlp["a2c_network.critic_mlp.0.bias"]
    )
    hidden = nn.functional.elu(
        hidden @ critic_mlp["a2c_network.critic_mlp.2.weight"].T + critic_mlp["a2c_network.critic_mlp.2.bias"]
    )
    value_normalized = hidden @ model["a2c_network.value.weight"].T + model["a2c_network.value.bias"]
    variance, mean = model["value_mean_std.running_var"].float(), model["value_mean_std.running_mean"].float()
    expected_value = value_normalized.clamp(-5, 5) * torch.sqrt(variance + 1e-5) + mean

    actual = rl_games_continuous_outputs(policy, value, path, b.obs)
    assert_matches(actual["mu"], b.outputs["mu"], b.rtol)
    assert_matches(actual["value_normalized"], value_normalized, b.rtol)
    assert_matches(actual["value"], expected_value, b.rtol)


def migrate_from(model, path):
    assert model.migrate(path=str(path)) is True
    return model
