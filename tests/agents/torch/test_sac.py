import math

import pytest
import torch

from rlblocks.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from rlblocks.agents.torch.sac.sac import EntropyCoefficient
from tests.helpers.models import Critic, GaussianPolicy
from tests.helpers.off_policy import make_agent, set_linear, train, vector_env


def test_default_config_keeps_skrl_keys_and_defaults_with_directory():
    expected = {
        "gradient_steps": 1,
        "batch_size": 64,
        "discount_factor": 0.99,
        "polyak": 0.005,
        "actor_learning_rate": 1e-3,
        "critic_learning_rate": 1e-3,
        "learning_rate_scheduler": None,
        "learning_rate_scheduler_kwargs": {},
        "state_preprocessor": None,
        "state_preprocessor_kwargs": {},
        "random_timesteps": 0,
        "learning_starts": 0,
        "grad_norm_clip": 0,
        "learn_entropy": True,
        "entropy_learning_rate": 1e-3,
        "initial_entropy_value": 0.2,
        "target_entropy": None,
        "rewards_shaper": None,
    }
    assert {key: SAC_DEFAULT_CONFIG[key] for key in expected} == expected
    assert "directory" in SAC_DEFAULT_CONFIG["experiment"]
    assert "base_directory" not in SAC_DEFAULT_CONFIG["experiment"]


def test_unknown_config_key_names_the_nearest():
    with pytest.raises(KeyError, match='did you mean "learn_entropy"'):
        make_agent("sac", cfg={"learn_entropi": False})


def test_discrete_action_space_is_a_clear_error():
    env = vector_env("CartPole-v1")
    policy = GaussianPolicy(env.observation_space, 1)
    with pytest.raises(ValueError, match=r"SAC needs a Box \(continuous\) action space, got Discrete\(2\)"):
        SAC({"policy": policy}, None, env.observation_space, env.action_space, "cpu")


def test_entropy_is_learned_by_default_towards_minus_the_action_dimension():
    agent, env = make_agent("sac")
    assert agent.target_entropy == -1.0  # Pendulum: one action dimension
    assert agent.entropy_coefficient.value.item() == pytest.approx(0.2)
    train(agent, env, 20)
    assert agent.entropy_coefficient.value.item() != pytest.approx(0.2, abs=1e-6)


def test_fixed_entropy_coefficient_when_not_learned():
    agent, env = make_agent("sac", cfg={"learn_entropy": False, "initial_entropy_value": 0.7})
    train(agent, env, 20)
    assert agent.entropy_coefficient.value.item() == pytest.approx(0.7)
    assert "entropy_optimizer" not in agent.checkpoint_modules


def test_entropy_step_raises_alpha_when_the_entropy_is_below_target():
    """L(log α) = −log α·(log π + H̄): with log π = 2 > −H̄ = 1, dL/dlog α = −(2 − 1) < 0, so α grows."""
    agent, _ = make_agent("sac")
    before = agent.entropy_coefficient.value.item()
    agent.entropy_step(torch.full((8, 1), 2.0))
    assert agent.entropy_coefficient.value.item() > before


def linear_sac(squash=False, alpha=0.5, discount_factor=0.9):
    """SAC on Pendulum (3 observations, 1 action in [−2, 2]) with single-layer critics.

    Q̄1(s, a) = Σ s + 2a, Q̄2(s, a) = Σ s + a + 1 (weights set by hand).
    """
    env = vector_env("Pendulum-v1")
    o, a = env.observation_space, env.action_space
    models = {
        "policy": GaussianPolicy(o, a, hidden=()),
        **{
            role: Critic(o, a, hidden=())
            for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
        },
    }
    set_linear(models["critic_1"], [1, 1, 1, 2])
    set_linear(models["critic_2"], [1, 1, 1, 1], bias=1.0)
    cfg = {"initial_entropy_value": alpha, "discount_factor": discount_factor, "squash_actions": squash}
    agent, _ = make_agent("sac", env=env, cfg=cfg, models=models)
    return agent


def test_soft_target_matches_hand_computed():
    """s' = [[1, 0, 0], [0, 1, 1]], a' = [[0.5], [−1]], log π(a'|s') = [[−1], [0.2]], α = 0.5, γ = 0.9.

    Q̄1 = [1 + 1, 2 − 2] = [2, 0]; Q̄2 = [1 + 0.5 + 1, 2 − 1 + 1] = [2.5, 2]; min = [2, 0].
    V = min − α·log π = [2.5, −0.1]. r = [1, 1], terminated = [F, T]: y = [1 + 0.9·2.5, 1] = [3.25, 1].
    """
    agent = linear_sac()
    agent.sample_actions = lambda states: (torch.tensor([[0.5], [-1.0]]), torch.tensor([[-1.0], [0.2]]))
    next_states = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    batch = type("Batch", (), {})()
    batch.next_states, batch.rewards = next_states, torch.ones(2, 1)
    batch.terminated = torch.tensor([[False], [True]])
    assert torch.allclose(agent.soft_q_targets(batch), torch.tensor([[3.25], [1.0]]))


def test_squashed_actions_stay_in_bounds_and_carry_the_tanh_correction():
    """With squash_actions, a = 2·tanh(u) and log π(a) = log N(u) − log(1 − tanh² u)."""
    agent = linear_sac(squash=True)
    policy = agent.policy
    with torch.no_grad():
        policy.log_std_parameter.fill_(math.log(3.0))  # wide: many samples saturate
    states = torch.randn(256, 3)
    torch.manual_seed(0)
    actions, log_prob = agent.sample_actions(states)
    assert actions.abs().max() <= 2.0
    torch.manual_seed(0)
    unbounded, gaussian_log_prob, _ = policy.act({"states": states}, role="policy")
    assert torch.allclose(actions, 2.0 * torch.tanh(unbounded))
    expected = gaussian_log_prob - torch.log(1 - torch.tanh(unbounded) ** 2 + 1e-12).sum(-1, keepdim=True)
    finite = torch.tanh(unbounded).abs() < 0.999
    assert torch.allclose(log_prob[finite], expected[finite], atol=1e-3)


def test_eval_actions_are_the_squashed_mean():
    agent = linear_sac(squash=True)
    agent.set_running_mode("eval")
    states = torch.randn(4, 3)
    mean = agent.policy.act({"states": states}, role="policy")[2]["mean_actions"]
    assert torch.allclose(agent.act(states, 0, 1)[0], 2.0 * torch.tanh(mean))


def test_squashing_needs_finite_bounds():
    import gymnasium
    import numpy as np

    observation_space = gymnasium.spaces.Box(-1, 1, (3,), np.float32)
    action_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    policy = GaussianPolicy(observation_space, action_space)
    with pytest.raises(ValueError, match="squash_actions needs finite action bounds"):
        SAC({"policy": policy}, None, observation_space, action_space, "cpu", {"squash_actions": True})


def test_policy_loss_gives_no_gradient_to_the_critics():
    agent = linear_sac()
    loss, _ = agent.policy_loss(torch.randn(8, 3))
    loss.backward()
    assert all(parameter.grad is None for critic in agent.critics for parameter in critic.parameters())
    assert all(parameter.grad is not None for parameter in agent.policy.parameters())
    assert all(parameter.requires_grad for critic in agent.critics for parameter in critic.parameters())


def test_entropy_coefficient_is_checkpointed_as_a_parameter():
    coefficient = EntropyCoefficient(0.2, torch.device("cpu"))
    assert set(coefficient.state_dict()) == {"log_value"}
    agent, _ = make_agent("sac")
    assert agent.checkpoint_modules["entropy_coefficient"] is agent.entropy_coefficient
    assert "entropy_optimizer" in agent.checkpoint_modules
