import copy

import gymnasium as gym
import pytest
import torch
from torch.distributions import kl_divergence

from rlblocks.agents.torch.trpo import TRPO, TRPO_DEFAULT_CONFIG
from rlblocks.memories.torch import RandomMemory
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, SharedGaussianValue, Value
from tests.helpers.off_policy import NO_LOGS, train, vector_env
from tests.helpers.syncs import count_host_syncs


def make_trpo(env, cfg=None, models=None):
    cfg = {"rollouts": 8, "mini_batches": 2, "learning_epochs": 2, "experiment": NO_LOGS, **(cfg or {})}
    policy_class = CategoricalPolicy if isinstance(env.action_space, gym.spaces.Discrete) else GaussianPolicy
    models = models or {
        "policy": policy_class(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, env.action_space, hidden=(16,)),
    }
    memory = RandomMemory(cfg["rollouts"], env.num_envs)
    return TRPO(models, memory, env.observation_space, env.action_space, "cpu", cfg)


def test_default_config_is_skrls_dict_plus_time_limit_bootstrap():
    assert TRPO_DEFAULT_CONFIG == {
        "rollouts": 16,
        "learning_epochs": 8,
        "mini_batches": 2,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "value_learning_rate": 1e-3,
        "learning_rate_scheduler": None,
        "learning_rate_scheduler_kwargs": {},
        "state_preprocessor": None,
        "state_preprocessor_kwargs": {},
        "value_preprocessor": None,
        "value_preprocessor_kwargs": {},
        "random_timesteps": 0,
        "learning_starts": 0,
        "grad_norm_clip": 0.5,
        "value_loss_scale": 1.0,
        "damping": 0.1,
        "max_kl_divergence": 0.01,
        "conjugate_gradient_steps": 10,
        "max_backtrack_steps": 10,
        "accept_ratio": 0.5,
        "step_fraction": 1.0,
        "rewards_shaper": None,
        "time_limit_bootstrap": True,
        "non_finite": "raise",  # rlblocks: NaN/inf from the env or a loss raises
        "experiment": {
            "directory": "",
            "experiment_name": "",
            "write_interval": 250,
            "checkpoint_interval": 1000,
            "store_separately": False,
            "wandb": False,
            "wandb_kwargs": {},
            "mlflow": False,
            "mlflow_kwargs": {},
        },
    }


def test_unknown_config_key_names_the_nearest():
    with pytest.raises(KeyError, match='did you mean "max_kl_divergence"'):
        make_trpo(vector_env("Pendulum-v1"), cfg={"max_kl_divergance": 0.02})
    with pytest.raises(KeyError, match='did you mean "value_learning_rate"'):
        make_trpo(vector_env("Pendulum-v1"), cfg={"value_learning_rat": 1e-3})


def test_shared_policy_and_value_is_a_clear_error():
    env = vector_env("Pendulum-v1")
    shared = SharedGaussianValue(env.observation_space, env.action_space)
    with pytest.raises(ValueError, match='TRPO needs separate "policy" and "value" models'):
        make_trpo(env, models={"policy": shared, "value": shared})


def test_only_the_value_has_an_optimizer_checkpointed_as_skrl_names_it():
    agent = make_trpo(vector_env("Pendulum-v1"), cfg={"value_learning_rate": 3e-4})
    optimised = agent.value_optimizer.param_groups[0]["params"]
    assert [id(p) for p in optimised] == [id(p) for p in agent.value.parameters()]
    assert agent.value_optimizer.param_groups[0]["lr"] == 3e-4
    assert sorted(agent.checkpoint_modules) == ["policy", "value", "value_optimizer"]


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
def test_a_policy_step_keeps_the_kl_within_the_bound_and_it_is_torchs_kl(env_id):
    """The step's KL, recomputed from a copy of the policy taken before the update, is ≤ δ and > 0."""
    env = vector_env(env_id)
    agent = make_trpo(env, cfg={"max_kl_divergence": 0.005})
    old_policy = copy.deepcopy(agent.policy)
    train(agent, env, 8)  # exactly one rollout, one update

    assert agent.last_line_search.is_accepted
    states = agent.memory.get_tensor_by_name("states", keepdim=False)
    with torch.no_grad():
        old_policy.act({"states": states}, role="policy")
        agent.policy.act({"states": states}, role="policy")
        old, new = old_policy.distribution(role="policy"), agent.policy.distribution(role="policy")
        kl = kl_divergence(old, new)
        kl = (kl.sum(-1) if kl.dim() > 1 else kl).mean()
    assert 0 < kl.item() <= 0.005
    assert agent.last_line_search.trial.kl.item() == pytest.approx(kl.item(), abs=1e-6)


def test_no_accepted_step_restores_the_old_policy_and_still_trains_the_value():
    env = vector_env("Pendulum-v1")
    agent = make_trpo(env, cfg={"accept_ratio": 1e9, "max_backtrack_steps": 3})
    policy_before = [p.detach().clone() for p in agent.policy.parameters()]
    value_before = [p.detach().clone() for p in agent.value.parameters()]
    train(agent, env, 8)

    assert not agent.last_line_search.is_accepted and agent.last_line_search.num_trials == 3
    assert all(torch.equal(b, p) for b, p in zip(policy_before, agent.policy.parameters(), strict=True))
    assert any(not torch.equal(b, p) for b, p in zip(value_before, agent.value.parameters(), strict=True))


def test_value_steps_leave_the_policy_without_gradients():
    env = vector_env("CartPole-v1")
    agent = make_trpo(env)
    train(agent, env, 8)
    assert all(p.grad is None for p in agent.policy.parameters())
    assert any(p.grad is not None for p in agent.value.parameters())


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
def test_eval_acts_deterministically(env_id):
    env = vector_env(env_id)
    agent = make_trpo(env)
    agent.init()
    agent.set_running_mode("eval")
    states = torch.randn(5, env.observation_space.shape[0])
    first = agent.act(states, 0, 0)[0]
    second = agent.act(states, 0, 0)[0]
    assert torch.equal(first, second)
    with torch.no_grad():
        if env_id == "Pendulum-v1":
            expected = agent.policy.act({"states": states}, role="policy")[2]["mean_actions"].clamp(-2, 2)
        else:
            expected = agent.policy.net(states).argmax(dim=-1, keepdim=True)
    assert torch.equal(first, expected)


def test_training_logs_the_step_kl_and_the_value_learning_rate(tmp_path):
    env = vector_env("Pendulum-v1")
    experiment = {"write_interval": 8, "checkpoint_interval": 0, "directory": str(tmp_path)}
    agent = make_trpo(env, cfg={"experiment": experiment})
    recorded = {}
    original = agent.track_data

    def track_data(tag, value):
        recorded[tag] = value
        original(tag, value)

    agent.track_data = track_data
    train(agent, env, 8)
    assert set(recorded) >= {
        "Loss / Policy loss",
        "Loss / Value loss",
        "Policy / KL divergence",
        "Policy / Standard deviation",
        "Learning / Value learning rate",
    }
    assert 0 < float(recorded["Policy / KL divergence"]) <= 0.01


def test_an_update_reads_the_host_once_per_line_search_trial(tmp_path):
    """Beyond the inherent action copy (2 per step) and the log/checkpoint writes, TRPO's only host reads
    are the line search's accept decisions (one per trial); the conjugate gradient reads none."""
    env = vector_env("Pendulum-v1", num_envs=4)
    agent = make_trpo(env, cfg={"rollouts": 16, "experiment": {**NO_LOGS, "directory": str(tmp_path)}})
    trials = []
    original = agent._policy_step

    def policy_step(rollout):
        result = original(rollout)
        trials.append(result[1].num_trials)
        return result

    agent._policy_step = policy_step
    with count_host_syncs() as counts:
        train(agent, env, 160)
    assert len(trials) == 10
    assert counts["total"] == 2 * 160 + sum(trials), dict(counts)
