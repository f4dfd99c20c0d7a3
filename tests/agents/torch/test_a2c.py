"""A2C: skrl 0.10's keys and defaults, training with them (bug #13), hand-computed losses, schedulers."""

import math

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.a2c import A2C, A2C_DEFAULT_CONFIG
from rlblocks.agents.torch.on_policy import Rollout
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, SharedGaussianValue, Value

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
EXPERIMENT_DEFAULTS = {
    "directory": "",
    "experiment_name": "",
    "write_interval": 250,
    "checkpoint_interval": 1000,
    "store_separately": False,
    "wandb": False,
    "wandb_kwargs": {},
    "mlflow": False,
    "mlflow_kwargs": {},
}


def cartpole(num_envs=2):
    return wrap_env(gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def pendulum(num_envs=2):
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def make_a2c(env, cfg=None, models=None):
    cfg = {"rollouts": 8, "experiment": NO_LOGS, **(cfg or {})}
    models = models or {
        "policy": CategoricalPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, env.action_space, hidden=(16,)),
    }
    memory = RandomMemory(cfg["rollouts"], env.num_envs)
    return A2C(models, memory, env.observation_space, env.action_space, "cpu", cfg)


def train(agent, env, timesteps):
    SequentialTrainer(
        env,
        agent,
        cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True},
    ).train()


def test_default_config_is_skrl_s_dict_plus_time_limit_bootstrap():
    assert A2C_DEFAULT_CONFIG == {
        "rollouts": 16,
        "mini_batches": 1,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "learning_rate": 1e-3,
        "learning_rate_scheduler": None,
        "learning_rate_scheduler_kwargs": {},
        "state_preprocessor": None,
        "state_preprocessor_kwargs": {},
        "value_preprocessor": None,
        "value_preprocessor_kwargs": {},
        "random_timesteps": 0,
        "learning_starts": 0,
        "grad_norm_clip": 0.5,
        "entropy_loss_scale": 0.0,
        "rewards_shaper": None,
        "time_limit_bootstrap": True,
        "non_finite": "raise",  # rlblocks: NaN/inf from the env or a loss raises
        "experiment": EXPERIMENT_DEFAULTS,
    }


def test_default_config_trains_without_a_scheduler():
    """skrl 0.10 bug #13: the first update read an undefined self.scheduler and crashed."""
    env = cartpole()
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, env.action_space, hidden=(16,)),
    }
    agent = A2C(
        models, RandomMemory(16, 2), env.observation_space, env.action_space, "cpu", {"experiment": NO_LOGS}
    )
    before = [parameter.clone() for parameter in agent.policy.parameters()]
    train(agent, env, 32)  # two updates
    assert agent.scheduler is None
    assert all(not torch.equal(b, p) for b, p in zip(before, agent.policy.parameters()))


def test_losses_match_hand_computed_values_on_a_tiny_rollout():
    """μ ≡ 0, log σ = 0, V ≡ 0.5, entropy scale 0.1; actions (1, 0, −2), A (1, −1, 2), returns (1, 0, 2).

    log π(a) = −a²/2 − log √(2π): (−0.5, 0, −2) − c with c = 0.9189385.
    policy loss = −mean(A · log π) = −(−0.5 − c + c − 4 − 2c)/3 = (4.5 + 2c)/3.
    value loss = mean((R − 0.5)²) = (0.25 + 0.25 + 2.25)/3.
    entropy loss = −0.1 · (0.5 + c).
    """
    env = pendulum()
    policy = GaussianPolicy(env.observation_space, env.action_space, hidden=(4,))
    value = Value(env.observation_space, None, hidden=(4,))
    with torch.no_grad():
        for parameter in [*policy.parameters(), *value.parameters()]:
            parameter.zero_()
        value.net[-1].bias.fill_(0.5)
    agent = make_a2c(env, {"entropy_loss_scale": 0.1}, {"policy": policy, "value": value})
    c = 0.5 * math.log(2 * math.pi)
    batch = Rollout(
        states=torch.randn(3, 3),
        actions=torch.tensor([[1.0], [0.0], [-2.0]]),
        log_prob=torch.zeros(3, 1),
        values=torch.zeros(3, 1),
        returns=torch.tensor([[1.0], [0.0], [2.0]]),
        advantages=torch.tensor([[1.0], [-1.0], [2.0]]),
    )
    losses = agent._losses(batch)
    assert losses.policy.item() == pytest.approx((4.5 + 2 * c) / 3, rel=1e-6)
    assert losses.value.item() == pytest.approx(2.75 / 3, rel=1e-6)
    assert losses.entropy.item() == pytest.approx(-0.1 * (0.5 + c), rel=1e-6)
    log_prob = torch.tensor([-0.5, 0.0, -2.0]) - c
    assert losses.approx_kl.item() == pytest.approx(((log_prob.exp() - 1) - log_prob).mean().item(), rel=1e-5)


def test_value_loss_gives_no_gradient_to_policy_parameters():
    env = cartpole()
    agent = make_a2c(env)
    train(agent, env, 8)
    agent.optimizer.zero_grad(set_to_none=True)
    batch = agent.rollout_with_advantages()
    agent._losses(batch).value.backward()
    assert all(p.grad is None for p in agent.policy.parameters())
    assert any(p.grad is not None for p in agent.value.parameters())


def test_kl_adaptive_scheduler_gets_the_pass_kl_and_a_torch_scheduler_steps_once_per_update():
    env = cartpole()
    # every KL is far below 1e3 / 2, so KLAdaptiveRL raises the learning rate by 1.5 per update
    agent = make_a2c(
        env,
        {"learning_rate_scheduler": KLAdaptiveRL, "learning_rate_scheduler_kwargs": {"kl_threshold": 1e3}},
    )
    train(agent, env, 16)
    assert agent.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 1.5**2)

    step_lr = {"learning_rate_scheduler": torch.optim.lr_scheduler.StepLR}
    agent = make_a2c(env, {**step_lr, "learning_rate_scheduler_kwargs": {"step_size": 1, "gamma": 0.5}})
    train(agent, env, 24)
    assert agent.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**3)


def test_shared_policy_and_value_model_trains_both_heads():
    env = pendulum()
    shared = SharedGaussianValue(env.observation_space, env.action_space)
    agent = make_a2c(env, {"entropy_loss_scale": 0.01}, {"policy": shared, "value": shared})
    assert agent.is_shared and len(agent.optimizer.param_groups[0]["params"]) == len(
        list(shared.parameters())
    )
    mean_head, value_head = shared.mean_head.weight.clone(), shared.value_head.weight.clone()
    train(agent, env, 16)
    assert not torch.equal(mean_head, shared.mean_head.weight)
    assert not torch.equal(value_head, shared.value_head.weight)


def test_eval_acts_deterministically_and_stores_nothing():
    env = pendulum()
    policy = GaussianPolicy(env.observation_space, env.action_space, initial_log_std=1.0)
    agent = make_a2c(env, models={"policy": policy, "value": Value(env.observation_space, None)})
    agent.init()
    agent.set_running_mode("eval")
    states = torch.randn(2, 3)
    actions = agent.act(states, 0, 10)[0]
    assert torch.equal(actions, policy.net(states))
    no = torch.zeros(2, 1, dtype=torch.bool)
    agent.record_transition(states, actions, torch.ones(2, 1), states, no, no, {}, 0, 10)
    agent.post_interaction(0, 10)
    assert len(agent.memory) == 0


def test_unknown_config_key_names_the_nearest():
    with pytest.raises(KeyError, match='unknown A2C config key "mini_batch".*did you mean "mini_batches"'):
        make_a2c(cartpole(), {"mini_batch": 2})


def test_missing_value_model_is_a_clear_error():
    env = cartpole()
    with pytest.raises(ValueError, match=r'A2C needs a "policy" and a "value" model'):
        make_a2c(env, models={"policy": CategoricalPolicy(env.observation_space, env.action_space)})
