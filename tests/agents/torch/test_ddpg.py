import pytest
import torch

from rlblocks.agents.torch.ddpg import DDPG_DEFAULT_CONFIG
from rlblocks.resources.noises.torch import GaussianNoise
from tests.helpers.models import Critic, DeterministicActor
from tests.helpers.off_policy import make_agent, set_linear, vector_env


def test_default_config_keeps_skrl_keys_and_defaults():
    expected = {
        "gradient_steps": 1,
        "batch_size": 64,
        "discount_factor": 0.99,
        "polyak": 0.005,
        "actor_learning_rate": 1e-3,
        "critic_learning_rate": 1e-3,
        "random_timesteps": 0,
        "learning_starts": 0,
        "grad_norm_clip": 0,
        "exploration": {"noise": None, "initial_scale": 1.0, "final_scale": 1e-3, "timesteps": None},
        "rewards_shaper": None,
    }
    assert {key: DDPG_DEFAULT_CONFIG[key] for key in expected} == expected


def linear_ddpg(cfg=None):
    """DDPG on Pendulum (3 observations, 1 action in [−2, 2]): μ(s) = s_0 + bias, Q(s, a) = Σ s + 2a."""
    env = vector_env("Pendulum-v1")
    o, a = env.observation_space, env.action_space
    models = {role: DeterministicActor(o, a, hidden=()) for role in ("policy", "target_policy")}
    models.update({role: Critic(o, a, hidden=()) for role in ("critic", "target_critic")})
    set_linear(models["policy"], [1, 0, 0])
    set_linear(models["critic"], [1, 1, 1, 2])
    agent, env = make_agent("ddpg", env=env, cfg=cfg, models=models)
    return agent, env


def test_target_matches_hand_computed():
    """s' = [[1, 0, 0], [2, 1, 0]]: μ̄(s') = [1, 2], Q̄ = Σ s' + 2μ̄ = [3, 7]; γ = 0.9, r = 1, terminated [F, T].

    y = [1 + 0.9·3, 1] = [3.7, 1].
    """
    agent, _ = linear_ddpg({"discount_factor": 0.9})
    batch = type("Batch", (), {})()
    batch.next_states = torch.tensor([[1.0, 0.0, 0.0], [2.0, 1.0, 0.0]])
    batch.rewards, batch.terminated = torch.ones(2, 1), torch.tensor([[False], [True]])
    assert torch.allclose(agent.q_targets(batch), torch.tensor([[3.7], [1.0]]))


def test_exploration_noise_scale_falls_linearly_and_stops_after_its_timesteps():
    """Constant noise 0.3, scale 1 -> 0.5 over 10 steps: +0.3 at t = 0, +0.225 at t = 5, nothing at t = 11."""
    exploration = {
        "noise": GaussianNoise(0.3, 0.0, "cpu"),
        "initial_scale": 1.0,
        "final_scale": 0.5,
        "timesteps": 10,
    }
    agent, _ = linear_ddpg({"exploration": exploration})
    agent.init()
    states = torch.zeros(2, 3)
    with torch.no_grad():
        assert torch.allclose(agent.act(states, 0, 100)[0], torch.full((2, 1), 0.3))
        assert torch.allclose(agent.act(states, 5, 100)[0], torch.full((2, 1), 0.225))
        assert torch.equal(agent.act(states, 11, 100)[0], torch.zeros(2, 1))
        states[:, 0] = 1.9  # μ(s) = 1.9: noisy actions are clamped to the bound 2
        assert torch.allclose(agent.act(states, 0, 100)[0], torch.full((2, 1), 2.0))
        agent.set_running_mode("eval")
        assert torch.allclose(agent.act(states, 0, 100)[0], torch.full((2, 1), 1.9))


def test_noise_schedule_lasts_the_timesteps_the_hook_receives_by_default():
    """Constant noise 0.3, scale 1 -> 0.5 (final_scale) over the hook's `timesteps`: at t = 5 the
    scale is 0.75 when T = 10 (+0.225) and 0.975 when T = 100 (+0.2925); nothing once t > T."""
    noise = GaussianNoise(0.3, 0.0, "cpu")
    agent, _ = linear_ddpg({"exploration": {"noise": noise, "final_scale": 0.5}})
    assert agent.cfg.exploration.initial_scale == 1.0  # a partial exploration dict keeps the defaults
    agent.init()
    states = torch.zeros(2, 3)
    with torch.no_grad():
        assert torch.allclose(agent.act(states, 5, 10)[0], torch.full((2, 1), 0.225))
        assert torch.allclose(agent.act(states, 5, 100)[0], torch.full((2, 1), 0.2925))
        assert torch.equal(agent.act(states, 11, 10)[0], torch.zeros(2, 1))


def test_random_timesteps_act_uniformly_within_the_bounds():
    agent, _ = linear_ddpg({"random_timesteps": 5})
    torch.manual_seed(0)
    with torch.no_grad():
        actions = torch.cat([agent.act(torch.zeros(64, 3), 0, 100)[0] for _ in range(4)])
    assert actions.min() >= -2 and actions.max() <= 2 and actions.std() > 0.5


def test_exploration_noise_must_be_an_instance():
    with pytest.raises(ValueError, match=r'"exploration"\["noise"\] must be a noise instance'):
        make_agent("ddpg", cfg={"exploration": {"noise": "gaussian"}})
