"""What every replay-based agent (SAC, TD3, DDPG, DQN, DDQN) must do, checked on each of them."""

import pytest
import torch

from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from tests.agents.torch.test_checkpoints import assert_state_equal
from tests.helpers.off_policy import AGENT_NAMES, make_agent, parameters_of, train

pytestmark = pytest.mark.parametrize("name", AGENT_NAMES)

SOURCE_OF = {
    "target_policy": "policy",
    "target_critic": "critic",
    "target_critic_1": "critic_1",
    "target_critic_2": "critic_2",
    "target_q_network": "q_network",
}


class CountingScaler(RunningStandardScaler):
    """A RunningStandardScaler that records (rows, train) of every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def forward(self, x, train=False, inverse=False, no_grad=True):
        self.calls.append((x.shape[0], train))
        return super().forward(x, train=train, inverse=inverse, no_grad=no_grad)


def target_pairs(agent):
    return [
        (agent.models[target], agent.models[source])
        for target, source in SOURCE_OF.items()
        if target in agent.models
    ]


def test_targets_start_as_frozen_copies_outside_every_optimizer(name):
    agent, _ = make_agent(name)
    optimized = {
        id(parameter)
        for module in agent.checkpoint_modules.values()
        if isinstance(module, torch.optim.Optimizer)
        for group in module.param_groups
        for parameter in group["params"]
    }
    for target, source in target_pairs(agent):
        for target_parameter, source_parameter in zip(target.parameters(), source.parameters()):
            assert torch.equal(target_parameter, source_parameter)
            assert not target_parameter.requires_grad
            assert id(target_parameter) not in optimized


def test_optimizer_steps_leave_targets_unchanged_with_polyak_zero(name):
    agent, env = make_agent(
        name, cfg={"polyak": 0.0, "policy_delay": 1} if name == "td3" else {"polyak": 0.0}
    )
    before = {id(target): parameters_of(target) for target, _ in target_pairs(agent)}
    sources_before = [parameters_of(source) for _, source in target_pairs(agent)]
    train(agent, env, 40)
    for (target, source), source_before in zip(target_pairs(agent), sources_before):
        assert all(torch.equal(a, b) for a, b in zip(parameters_of(target), before[id(target)]))
        assert not all(torch.equal(a, b) for a, b in zip(parameters_of(source), source_before))


def test_a_target_update_moves_each_target_by_exactly_polyak(name):
    """θ̄ ← (1 − ρ)·θ̄ + ρ·θ with ρ = 0.25, θ read after the gradient step."""
    cfg = {"polyak": 0.25, "target_update_interval": 1} if name in ("dqn", "ddqn") else {"polyak": 0.25}
    if name == "td3":
        cfg["policy_delay"] = 1
    agent, env = make_agent(name, cfg={**cfg, "learning_starts": 10**6})
    train(agent, env, 20)  # fills the memory, no update
    before = [parameters_of(target) for target, _ in target_pairs(agent)]
    agent.set_mode("train")
    agent._update(timestep=20, timesteps=100)
    for (target, source), target_before in zip(target_pairs(agent), before):
        for new, old, online in zip(parameters_of(target), target_before, parameters_of(source)):
            assert torch.allclose(new, 0.75 * old + 0.25 * online, atol=1e-6)


def test_each_gradient_step_samples_a_fresh_batch_preprocessed_once(name):
    agent, env = make_agent(
        name, cfg={"state_preprocessor": CountingScaler, "learning_starts": 10**6, "gradient_steps": 3}
    )
    train(agent, env, 30)
    samplings = []
    sample = agent.memory.sample

    def counting_sample(*args, **kwargs):
        batches = sample(*args, **kwargs)
        samplings.append(agent.memory.get_sampling_indexes().clone())
        return batches

    agent.memory.sample = counting_sample
    scaler = agent.checkpoint_modules["state_preprocessor"]
    scaler.calls.clear()
    agent.set_mode("train")
    agent._update(timestep=30, timesteps=100)
    assert len(samplings) == 3
    assert not torch.equal(samplings[0], samplings[1])
    # states and next states of each batch, once each, never updating the statistics
    assert scaler.calls == [(agent.cfg.batch_size, False)] * 6


def test_eval_mode_acts_deterministically_stores_nothing_and_never_updates(name):
    agent, env = make_agent(name)
    train(agent, env, 12)
    stored = len(agent.memory)
    models_before = {role: parameters_of(model) for role, model in agent.models.items()}
    agent.set_running_mode("eval")
    agent.set_mode("eval")
    states = env.reset()[0]
    with torch.no_grad():
        first, second = agent.act(states, 0, 10)[0], agent.act(states, 0, 10)[0]
        assert torch.equal(first, second)
        next_states, rewards, terminated, truncated, infos = env.step(first)
        agent.record_transition(states, first, rewards, next_states, terminated, truncated, infos, 12, 100)
        agent.post_interaction(12, 100)
    assert len(agent.memory) == stored
    for role, model in agent.models.items():
        assert all(torch.equal(a, b) for a, b in zip(parameters_of(model), models_before[role]))


def test_no_update_before_learning_starts(name):
    agent, env = make_agent(name, cfg={"learning_starts": 30})
    learner = agent.models.get("policy") or agent.models["q_network"]
    before = parameters_of(learner)
    train(agent, env, 30)
    assert all(torch.equal(a, b) for a, b in zip(parameters_of(learner), before))
    train(agent, env, 32, resume=True)
    assert not all(torch.equal(a, b) for a, b in zip(parameters_of(learner), before))


def test_rewards_shaper_changes_only_what_the_memory_stores(name):
    agent, env = make_agent(name, cfg={"rewards_shaper": lambda rewards, t, T: rewards * 0 + 7})
    train(agent, env, 5)
    assert torch.all(agent.memory.get_tensor_by_name("rewards")[:5] == 7)
    running_returns = agent.episode_statistics._returns  # the env's own rewards, summed over 5 steps
    assert not torch.allclose(running_returns, torch.full_like(running_returns, 35.0))


def test_checkpoint_round_trip_restores_every_module_and_the_actions(name, tmp_path):
    cfg = {
        "state_preprocessor": RunningStandardScaler,
        "learning_rate_scheduler": torch.optim.lr_scheduler.StepLR,
        "learning_rate_scheduler_kwargs": {"step_size": 5, "gamma": 0.5},
    }
    torch.manual_seed(0)
    agent, env = make_agent(name, cfg=cfg)
    train(agent, env, 25)
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    torch.manual_seed(1)
    restored, _ = make_agent(name, env=env, cfg=cfg)
    restored.load(path)
    assert set(restored.checkpoint_modules) == set(agent.checkpoint_modules)
    assert any(module_name.endswith("scheduler") for module_name in agent.checkpoint_modules)
    for module_name, module in agent.checkpoint_modules.items():
        assert_state_equal(module.state_dict(), restored.checkpoint_modules[module_name].state_dict())
    assert restored.timestep == agent.timestep == 25
    for each in (agent, restored):
        each.set_running_mode("eval")
        each.set_mode("eval")
    states = env.reset()[0]
    with torch.no_grad():
        assert torch.equal(agent.act(states, 0, 1)[0], restored.act(states, 0, 1)[0])


def test_a_missing_training_model_is_a_clear_error(name):
    agent, env = make_agent(name, memory_size=0)
    acting_role = "q_network" if name in ("dqn", "ddqn") else "policy"
    models = {role: model for role, model in agent.models.items() if role == acting_role}
    with pytest.raises(ValueError, match=r"needs the models \[.*'target_"):
        make_agent(name, env=env, models=models)
    acting_only, _ = make_agent(name, env=env, models=models, memory_size=0)  # enough to act
    with torch.no_grad():
        assert acting_only.act(env.reset()[0], 0, 1)[0].shape[0] == env.num_envs


def test_kl_adaptive_scheduler_is_rejected(name):
    with pytest.raises(ValueError, match="KLAdaptiveRL adapts to the KL divergence"):
        make_agent(name, cfg={"learning_rate_scheduler": KLAdaptiveRL})


def test_a_target_that_is_its_source_is_a_clear_error(name):
    agent, env = make_agent(name, memory_size=0)
    models = dict(agent.models)
    target = next(target for target in SOURCE_OF if target in models)
    models[target] = models[SOURCE_OF[target]]
    with pytest.raises(ValueError, match="must be a separate instance"):
        make_agent(name, env=env, models=models)


def test_set_mode_reaches_every_sub_module_and_respects_a_custom_train(name):
    agent, _ = make_agent(name)
    for mode, is_training in (("train", True), ("eval", False), ("train", True)):
        agent.set_mode(mode)
        assert all(
            module.training is is_training for model in agent.models.values() for module in model.modules()
        )
    with pytest.raises(ValueError, match="Invalid mode"):
        agent.set_mode("training")

    calls = []
    model = next(iter(agent.models.values()))
    model.net.train = lambda mode=True: calls.append(mode)  # a sub-module with its own train()
    fresh, _ = make_agent(name, models=agent.models)
    fresh.set_mode("eval")
    assert calls == [False]  # the slow path, through nn.Module.train, calls it
