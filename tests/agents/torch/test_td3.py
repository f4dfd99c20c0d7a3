import pytest
import torch

from rlblocks.agents.torch.ddpg import DDPG_DEFAULT_CONFIG
from rlblocks.agents.torch.td3 import TD3_DEFAULT_CONFIG
from rlblocks.resources.noises.torch import GaussianNoise
from tests.helpers.models import Critic, DeterministicActor
from tests.helpers.off_policy import NO_LOGS, make_agent, parameters_of, set_linear, train, vector_env


def test_default_config_is_ddpgs_plus_the_three_td3_keys():
    expected = {
        **DDPG_DEFAULT_CONFIG,
        "policy_delay": 2,
        "smooth_regularization_noise": None,
        "smooth_regularization_clip": 0.5,
    }
    assert expected == TD3_DEFAULT_CONFIG


def test_trains_with_the_default_config():
    """skrl 0.10 crashes here on the first update (no smoothing noise, #14)."""
    env = vector_env("Pendulum-v1")
    agent, _ = make_agent("td3", env=env, cfg={"batch_size": 64, "experiment": NO_LOGS})
    before = parameters_of(agent.policy)
    train(agent, env, 4)
    assert isinstance(agent.smoothing_noise, GaussianNoise) and agent.smoothing_noise.std == 0.2
    assert not all(torch.equal(a, b) for a, b in zip(parameters_of(agent.policy), before))


def linear_td3(cfg=None):
    """TD3 on Pendulum (3 observations, 1 action in [−2, 2]): μ(s) = s_0, Q1 = Σ s + 2a, Q2 = Σ s + a + 1."""
    env = vector_env("Pendulum-v1")
    o, a = env.observation_space, env.action_space
    models = {role: DeterministicActor(o, a, hidden=()) for role in ("policy", "target_policy")}
    models.update(
        {
            role: Critic(o, a, hidden=())
            for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
        }
    )
    set_linear(models["policy"], [1, 0, 0])
    set_linear(models["critic_1"], [1, 1, 1, 2])
    set_linear(models["critic_2"], [1, 1, 1, 1], bias=1.0)
    agent, _ = make_agent("td3", env=env, cfg=cfg, models=models)
    return agent


def test_smoothed_clipped_double_q_target_matches_hand_computed():
    """s' = [[1, 0, 0], [2, 1, 0]], ε = 0.8 (constant) clipped to 0.5, γ = 0.9, r = 1, not terminated.

    μ̄(s') = [1, 2]; a' = clamp(μ̄ + 0.5, ±2) = [1.5, 2].
    Q̄1 = Σ s' + 2a' = [4, 7]; Q̄2 = Σ s' + a' + 1 = [3.5, 6]; min = [3.5, 6].
    y = 1 + 0.9·min = [4.15, 6.4].
    """
    agent = linear_td3(
        {"smooth_regularization_noise": GaussianNoise(0.8, 0.0, "cpu"), "discount_factor": 0.9}
    )
    batch = type("Batch", (), {})()
    batch.next_states = torch.tensor([[1.0, 0.0, 0.0], [2.0, 1.0, 0.0]])
    batch.rewards, batch.terminated = torch.ones(2, 1), torch.zeros(2, 1, dtype=torch.bool)
    targets = agent.smoothed_clipped_double_q_targets(batch)
    assert torch.allclose(targets, torch.tensor([[4.15], [6.4]]))


def test_policy_and_targets_move_only_every_policy_delay_critic_updates():
    agent, env = make_agent("td3", cfg={"policy_delay": 3, "learning_starts": 10**6})
    train(agent, env, 16)
    agent.set_mode("train")
    changed = []
    for step in range(6):
        policy, target = parameters_of(agent.policy), parameters_of(agent.models["target_critic_1"])
        critic = parameters_of(agent.critics[0])
        agent._update(step, 100)
        assert not all(torch.equal(a, b) for a, b in zip(parameters_of(agent.critics[0]), critic))
        policy_moved = not all(torch.equal(a, b) for a, b in zip(parameters_of(agent.policy), policy))
        target_moved = not all(
            torch.equal(a, b) for a, b in zip(parameters_of(agent.models["target_critic_1"]), target)
        )
        assert policy_moved == target_moved
        changed.append(policy_moved)
    assert changed == [False, False, True, False, False, True]
    assert agent.checkpoint_modules["critic_updates"].state_dict() == {"count": 6}


def test_zero_smoothing_clip_uses_the_target_policy_action():
    agent = linear_td3(
        {"smooth_regularization_noise": GaussianNoise(0.8, 0.0, "cpu"), "smooth_regularization_clip": 0}
    )
    batch = type("Batch", (), {})()
    batch.next_states = torch.tensor([[1.0, 0.0, 0.0]])
    batch.rewards, batch.terminated = torch.zeros(1, 1), torch.zeros(1, 1, dtype=torch.bool)
    # a' = μ̄(s') = 1: Q̄1 = 1 + 2 = 3, Q̄2 = 1 + 1 + 1 = 3; y = 0.99·3
    assert agent.smoothed_clipped_double_q_targets(batch).item() == pytest.approx(0.99 * 3)


def test_smoothing_noise_must_be_a_noise_instance():
    with pytest.raises(ValueError, match='"smooth_regularization_noise" must be a noise instance'):
        make_agent("td3", cfg={"smooth_regularization_noise": GaussianNoise})
