import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.envs import EndlessRewardEnv
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, SharedGaussianValue, Value

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def cartpole(num_envs=2):
    return wrap_env(gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def make_ppo(env, cfg=None, models=None, memory_size=None):
    cfg = {"rollouts": 8, "mini_batches": 2, "learning_epochs": 2, "experiment": NO_LOGS, **(cfg or {})}
    models = models or {
        "policy": CategoricalPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, env.action_space, hidden=(16,)),
    }
    memory = RandomMemory(memory_size or cfg["rollouts"], env.num_envs)
    return PPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)


def train(agent, env, timesteps):
    SequentialTrainer(
        env,
        agent,
        cfg={
            "timesteps": timesteps,
            "headless": True,
            "disable_progressbar": True,
            "close_environment_at_exit": False,
        },
    ).train()


def test_missing_value_model_is_a_clear_error():
    env = cartpole()
    with pytest.raises(
        ValueError, match=r'PPO needs a "policy" and a "value" model; got roles \[\'policy\'\]'
    ):
        make_ppo(env, models={"policy": CategoricalPolicy(env.observation_space, env.action_space)})


def test_memory_must_hold_exactly_one_rollout():
    env = cartpole()
    agent = make_ppo(env, memory_size=5)
    with pytest.raises(ValueError, match=r"memory_size=5 but cfg\[\"rollouts\"\]=8"):
        agent.init()


def test_unknown_config_key_names_the_nearest():
    with pytest.raises(KeyError, match='did you mean "lambda"'):
        make_ppo(cartpole(), cfg={"lamda": 0.9})


def test_default_config_keeps_skrl_keys_and_defaults():
    expected = {
        "rollouts": 16,
        "learning_epochs": 8,
        "mini_batches": 2,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "learning_rate": 1e-3,
        "grad_norm_clip": 0.5,
        "ratio_clip": 0.2,
        "value_clip": 0.2,
        "clip_predicted_values": False,
        "entropy_loss_scale": 0.0,
        "value_loss_scale": 1.0,
        "kl_threshold": 0,
        "random_timesteps": 0,
        "learning_starts": 0,
    }
    assert {key: PPO_DEFAULT_CONFIG[key] for key in expected} == expected
    assert PPO_DEFAULT_CONFIG["experiment"]["write_interval"] == 250


def test_random_timesteps_store_the_policy_log_prob_of_random_actions():
    """skrl 0.10 bug #15: random actions had no log-prob and add_samples raised."""
    env = cartpole()
    agent = make_ppo(env, cfg={"random_timesteps": 100, "rollouts": 4})
    train(agent, env, 3)
    log_prob = agent.memory.get_tensor_by_name("log_prob")[:3]
    assert torch.isfinite(log_prob).all() and (log_prob < 0).all()


def test_categorical_policy_trains_with_an_entropy_bonus_and_shared_model_trains():
    env = cartpole()
    agent = make_ppo(env, cfg={"entropy_loss_scale": 0.01})
    before = [p.clone() for p in agent.policy.parameters()]
    train(agent, env, 16)
    assert any(not torch.equal(b, p) for b, p in zip(before, agent.policy.parameters()))

    pendulum = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    shared = SharedGaussianValue(pendulum.observation_space, pendulum.action_space)
    agent = make_ppo(pendulum, models={"policy": shared, "value": shared}, cfg={"entropy_loss_scale": 0.01})
    assert agent.is_shared and len(agent.optimizer.param_groups[0]["params"]) == len(
        list(shared.parameters())
    )
    value_head = shared.value_head.weight.clone()
    train(agent, pendulum, 16)
    assert not torch.equal(value_head, shared.value_head.weight)


def test_value_loss_gives_no_gradient_to_policy_parameters():
    env = cartpole()
    agent = make_ppo(env)
    train(agent, env, 8)
    agent.optimizer.zero_grad(set_to_none=True)
    batch = agent._minibatches()[0]
    agent._losses(batch).value.backward()
    assert all(p.grad is None for p in agent.policy.parameters())
    assert any(p.grad is not None for p in agent.value.parameters())


@pytest.mark.parametrize("bootstrap", [True, False])
def test_truncation_bootstrapping_learns_the_endless_value(bootstrap):
    """Reward 1 forever, truncated every 5 steps, γ = 0.8: V = 1/(1 − γ) = 5 only with bootstrapping."""
    torch.manual_seed(0)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: EndlessRewardEnv(5)] * 4), verbose=False)
    cfg = {
        "rollouts": 10,
        "learning_epochs": 4,
        "mini_batches": 1,
        "learning_rate": 3e-2,
        "discount_factor": 0.8,
        "time_limit_bootstrap": bootstrap,
    }
    agent = make_ppo(env, cfg=cfg)
    train(agent, env, 600)
    value = agent.value.act({"states": torch.ones(1, 1)}, role="value")[0].item()
    if bootstrap:
        assert value == pytest.approx(5.0, abs=0.3)
    else:
        assert value < 3.5  # the mean over t of (1 − 0.8^(5−t)) / 0.2 is ≈ 2.9


def test_eval_acts_deterministically_and_stores_nothing():
    pendulum = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    policy = GaussianPolicy(pendulum.observation_space, pendulum.action_space, initial_log_std=1.0)
    agent = make_ppo(pendulum, models={"policy": policy, "value": Value(pendulum.observation_space, None)})
    agent.init()
    agent.set_running_mode("eval")
    states = torch.randn(2, 3)
    actions = agent.act(states, 0, 10)[0]
    expected = torch.clamp(policy.net(states), -2.0, 2.0)
    assert torch.allclose(actions, expected)
    agent.record_transition(
        states,
        actions,
        torch.ones(2, 1),
        states,
        torch.zeros(2, 1, dtype=torch.bool),
        torch.zeros(2, 1, dtype=torch.bool),
        {},
        0,
        10,
    )
    agent.post_interaction(0, 10)
    assert len(agent.memory) == 0 and agent.timestep == 0


@pytest.mark.parametrize("hint", [None, True])
def test_a_step_both_terminated_and_truncated_is_not_bootstrapped(hint):
    """Rewards 1, V ≡ 2 (a constant value network), γ = 0.5: only the env cut by the time limit alone
    (truncated, not terminated) gets + γ·V = 1; one that terminated on its last allowed step does not."""
    env = cartpole(num_envs=3)
    agent = make_ppo(env, cfg={"discount_factor": 0.5})
    agent.init()
    with torch.no_grad():
        for parameter in agent.value.parameters():
            parameter.zero_()
        agent.value.net[-1].bias.fill_(2.0)
    states = torch.zeros(3, 4)
    agent.act(states, 0, 10)
    agent.episode_end_hint = hint
    agent.record_transition(
        states,
        torch.zeros(3, 1, dtype=torch.int64),
        torch.ones(3, 1),
        states,
        torch.tensor([[False], [True], [True]]),  # terminated
        torch.tensor([[True], [True], [False]]),  # truncated
        {},
        0,
        10,
    )
    stored = agent.memory.get_tensor_by_name("rewards")[0].view(-1)
    assert stored.tolist() == [2.0, 1.0, 1.0]


def test_update_trains_on_the_rollout_it_computed_and_leaves_it_in_memory():
    """The mini-batches split the computed rollout; the memory holds the same values, returns, advantages."""
    env = cartpole(num_envs=2)
    agent = make_ppo(env, cfg={"rollouts": 4, "mini_batches": 2})
    train(agent, env, 4)  # one rollout: the update ran at the 4th step
    rollout = agent.rollout_with_advantages()
    for name in ("values", "returns", "advantages"):
        assert torch.equal(getattr(rollout, name), agent.memory.get_tensor_by_name(name, keepdim=False))
    batches = list(agent.minibatches(rollout, 2))
    assert [batch.states.shape[0] for batch in batches] == [4, 4]
    rows = torch.cat([batch.states for batch in batches])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, rollout.states.tolist()))
