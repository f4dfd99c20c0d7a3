"""RPO: PPO's keys plus alpha, the perturbation only in the update (agent- or model-side), α = 0 is PPO."""

import copy

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from rlblocks.agents.torch.rpo import RPO, RPO_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.models.torch import functional as F
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils import set_seed
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, SharedGaussianValue, Value

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
ALPHA = 0.5


def pendulum(num_envs=2, seed=None):
    vector_env = gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync")
    if seed is not None:
        vector_env.reset(seed=seed)
    return wrap_env(vector_env, verbose=False)


class RecordingPolicy(GaussianPolicy):
    """A plain Gaussian policy (never reads "alpha") that records the taken actions it is given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen_taken_actions = []

    def compute(self, inputs, role=""):
        if "taken_actions" in inputs:
            self.seen_taken_actions.append(inputs["taken_actions"].clone())
        return super().compute(inputs, role)


class SkrlRPOPolicy(GaussianPolicy):
    """skrl 1.x's documented RPO model: ``compute`` adds U(−alpha, alpha) to its mean."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen_alphas, self.perturbations = [], []

    def compute(self, inputs, role=""):
        mean, log_std, outputs = super().compute(inputs, role)
        alpha = inputs["alpha"]
        perturbation = torch.zeros_like(mean).uniform_(-alpha, alpha)
        self.seen_alphas.append(alpha)
        self.perturbations.append(perturbation)
        return mean + perturbation, log_std, outputs


def make(agent_class, env, cfg=None, models=None):
    cfg = {"rollouts": 8, "learning_epochs": 2, "experiment": NO_LOGS, **(cfg or {})}
    models = models or {
        "policy": GaussianPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, None, hidden=(16,)),
    }
    memory = RandomMemory(cfg["rollouts"], env.num_envs)
    return agent_class(models, memory, env.observation_space, env.action_space, "cpu", cfg)


def train(agent, env, timesteps):
    SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}
    ).train()


def test_default_config_is_ppo_s_plus_alpha():
    assert RPO_DEFAULT_CONFIG == {**PPO_DEFAULT_CONFIG, "alpha": 0.5}
    assert set(RPO_DEFAULT_CONFIG) == {
        "rollouts", "learning_epochs", "mini_batches", "alpha", "discount_factor", "lambda",
        "learning_rate", "learning_rate_scheduler", "learning_rate_scheduler_kwargs",
        "state_preprocessor", "state_preprocessor_kwargs", "value_preprocessor", "value_preprocessor_kwargs",
        "random_timesteps", "learning_starts", "grad_norm_clip", "ratio_clip", "value_clip",
        "clip_predicted_values", "entropy_loss_scale", "value_loss_scale", "kl_threshold",
        "rewards_shaper", "time_limit_bootstrap", "non_finite", "experiment",
    }  # fmt: skip
    assert (RPO_DEFAULT_CONFIG["mini_batches"], RPO_DEFAULT_CONFIG["learning_epochs"]) == (2, 8)


def test_default_config_trains():
    env = pendulum()
    models = {
        "policy": GaussianPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, None, hidden=(16,)),
    }
    agent = RPO(
        models, RandomMemory(16, 2), env.observation_space, env.action_space, "cpu", {"experiment": NO_LOGS}
    )
    before = [parameter.clone() for parameter in agent.policy.parameters()]
    train(agent, env, 32)
    assert all(not torch.equal(b, p) for b, p in zip(before, agent.policy.parameters()))


def test_rollout_log_probs_are_the_unperturbed_policy_s():
    """Before the first update, the stored log-probs equal the policy's own on the stored actions."""
    env = pendulum()
    agent = make(RPO, env, {"rollouts": 8})
    train(agent, env, 7)  # no update yet
    stored = agent.memory
    states, actions = stored.get_tensor_by_name("states")[:7], stored.get_tensor_by_name("actions")[:7]
    with torch.no_grad():
        _, log_prob, _ = agent.policy.act(
            {"states": states.reshape(-1, 3), "taken_actions": actions.reshape(-1, 1)}, role="policy"
        )
    assert torch.allclose(stored.get_tensor_by_name("log_prob")[:7].reshape(-1, 1), log_prob, atol=1e-6)


def test_agent_perturbs_a_plain_model_only_in_the_update_within_alpha():
    env = pendulum()
    policy = RecordingPolicy(env.observation_space, env.action_space, hidden=(16,))
    agent = make(RPO, env, {"alpha": ALPHA}, {"policy": policy, "value": Value(env.observation_space, None)})
    train(agent, env, 7)
    assert policy.seen_taken_actions == []  # acting evaluates no taken actions, so nothing was shifted
    train(agent, env, 1)  # the update
    assert agent.is_perturbed_by_model is False
    # the first evaluation probes the model with the true actions; every later one is shifted by −u
    probe, *shifted = policy.seen_taken_actions
    assert len(shifted) == 2 * 2  # learning_epochs x mini_batches
    actions = agent.memory.get_tensor_by_name("actions", keepdim=False)
    assert set(probe.view(-1).tolist()) <= set(actions.view(-1).tolist())  # a mini-batch of true actions
    for seen in shifted:
        # each mini-batch is a permutation of the rollout: match every row to its stored action
        differences = (actions.view(1, -1) - seen.view(-1, 1)).abs()
        nearest = differences.min(dim=1).values
        assert (nearest <= ALPHA).all() and (nearest > 0).all()


def test_perturbed_log_prob_is_that_of_the_shifted_mean():
    """log π(a) under N(μ + u, σ²), computed with the pure Gaussian functions, equals what RPO uses."""
    env = pendulum()
    agent = make(RPO, env, {"alpha": ALPHA})
    agent.is_perturbed_by_model = False
    batch = agent.minibatches(_fake_rollout(), 1).__next__()
    generator_state = torch.get_rng_state()
    log_prob = agent.taken_action_log_prob(batch)
    torch.set_rng_state(generator_state)
    perturbation = torch.empty_like(batch.actions).uniform_(-ALPHA, ALPHA)
    mean = agent.policy.net(batch.states)
    expected = F.gaussian_log_prob(batch.actions, mean + perturbation, agent.policy.log_std_parameter).sum(
        -1, True
    )
    assert torch.allclose(log_prob, expected, atol=1e-6)


def _fake_rollout():
    from rlblocks.agents.torch.on_policy import Rollout

    rows = 6
    return Rollout(
        states=torch.randn(rows, 3),
        actions=torch.randn(rows, 1),
        log_prob=torch.zeros(rows, 1),
        values=torch.zeros(rows, 1),
        returns=torch.zeros(rows, 1),
        advantages=torch.zeros(rows, 1),
    )


def test_a_skrl_rpo_model_gets_alpha_0_when_acting_and_alpha_in_the_update():
    env = pendulum()
    policy = SkrlRPOPolicy(env.observation_space, env.action_space, hidden=(16,))
    agent = make(RPO, env, {"alpha": ALPHA}, {"policy": policy, "value": Value(env.observation_space, None)})
    train(agent, env, 7)
    assert set(policy.seen_alphas) == {0.0}
    assert all(torch.equal(p, torch.zeros_like(p)) for p in policy.perturbations)
    train(agent, env, 1)  # one more act, then the update: 2 epochs x 2 mini-batches
    assert agent.is_perturbed_by_model is True
    assert set(policy.seen_alphas[:-4]) == {0.0}
    assert policy.seen_alphas[-4:] == [ALPHA] * 4  # one evaluation per mini-batch: no agent-side retry
    for perturbation in policy.perturbations[-4:]:
        assert perturbation.abs().max() <= ALPHA and perturbation.abs().max() > 0


def test_alpha_0_equals_ppo_exactly():
    env_cfg = {"rollouts": 8, "mini_batches": 2, "learning_epochs": 2, "entropy_loss_scale": 0.01}
    set_seed(0)
    env = pendulum(seed=0)
    models = {
        "policy": GaussianPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, None, hidden=(16,)),
    }
    rpo_models = copy.deepcopy(models)
    initial = [p.detach().clone() for p in models["policy"].parameters()]
    parameters = {}
    for name, agent_class, agent_models, cfg in (
        ("ppo", PPO, models, env_cfg),
        ("rpo", RPO, rpo_models, {**env_cfg, "alpha": 0.0}),
    ):
        set_seed(1)
        env = pendulum(seed=1)
        agent = make(agent_class, env, cfg, agent_models)
        train(agent, env, 24)
        parameters[name] = [
            p.detach().clone() for p in [*agent.policy.parameters(), *agent.value.parameters()]
        ]
    assert all(torch.equal(a, b) for a, b in zip(parameters["ppo"], parameters["rpo"]))
    assert not all(torch.equal(a, b) for a, b in zip(parameters["ppo"], initial))


def test_a_categorical_policy_is_refused_with_a_clear_message():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": Value(env.observation_space, None),
    }
    with pytest.raises(ValueError, match="RPO perturbs the mean of a Gaussian policy.*CategoricalPolicy"):
        make(RPO, env, models=models)


def test_kl_adaptive_and_torch_schedulers_step_once_per_epoch():
    env = pendulum()
    agent = make(
        RPO,
        env,
        {"learning_rate_scheduler": KLAdaptiveRL, "learning_rate_scheduler_kwargs": {"kl_threshold": 1e3}},
    )
    train(agent, env, 8)
    assert agent.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 1.5**2)
    step_lr = {"learning_rate_scheduler": torch.optim.lr_scheduler.StepLR}
    agent = make(RPO, env, {**step_lr, "learning_rate_scheduler_kwargs": {"step_size": 1, "gamma": 0.5}})
    train(agent, env, 16)
    assert agent.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**4)


def test_shared_policy_and_value_model_trains_both_heads():
    env = pendulum()
    shared = SharedGaussianValue(env.observation_space, env.action_space)
    agent = make(RPO, env, models={"policy": shared, "value": shared})
    mean_head, value_head = shared.mean_head.weight.clone(), shared.value_head.weight.clone()
    train(agent, env, 16)
    assert agent.is_perturbed_by_model is False
    assert not torch.equal(mean_head, shared.mean_head.weight)
    assert not torch.equal(value_head, shared.value_head.weight)


def test_eval_acts_deterministically_unperturbed_and_stores_nothing():
    env = pendulum()
    policy = SkrlRPOPolicy(env.observation_space, env.action_space, initial_log_std=1.0)
    agent = make(RPO, env, models={"policy": policy, "value": Value(env.observation_space, None)})
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
    with pytest.raises(KeyError, match='unknown RPO config key "alpah".*did you mean "alpha"'):
        make(RPO, pendulum(), {"alpah": 0.1})
    with pytest.raises(ValueError, match='"alpha" must be >= 0'):
        make(RPO, pendulum(), {"alpha": -0.1})
