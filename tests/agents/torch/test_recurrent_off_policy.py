"""Recurrent policies and critics in SAC, TD3 and DDPG: acting, storing, sequence sampling.

The agents are driven by hand on a scripted 3-env rollout whose episodes end by termination and
by truncation at known steps, with a memory that wraps. The key check: on a sampled batch of
sequences, the policy's outputs (states pass and next pass) equal the ones it had while acting,
and the critics' outputs equal a step-by-step replay from the stored start states, within 1e-5.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.ddpg import DDPG
from rlblocks.agents.torch.dqn import DQN
from rlblocks.agents.torch.sac import SAC
from rlblocks.agents.torch.td3 import TD3
from rlblocks.memories.torch import RandomMemory
from tests.helpers.models import dqn_models
from tests.helpers.recurrent_off_policy_models import RecurrentCritic, recurrent_models
from tests.helpers.syncs import count_host_syncs

NUM_ENVS, LENGTH, MEMORY_SIZE, STEPS = 3, 4, 16, 22
OBSERVATIONS = gym.spaces.Box(-1.0, 1.0, (3,))
ACTIONS = gym.spaces.Box(-2.0, 2.0, (1,))
AGENTS = {"sac": SAC, "td3": TD3, "ddpg": DDPG}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
TERMINATIONS = {(3, 0), (9, 0), (7, 2), (13, 1), (18, 2), (20, 1)}
TRUNCATIONS = {(5, 1), (12, 1), (14, 2), (10, 0), (17, 0), (19, 2)}
"""(timestep, env) of the scripted episode ends (inside the sequences of the memory's last 16 steps)."""


def critic_roles(name):
    return ("critic",) if name == "ddpg" else ("critic_1", "critic_2")


def make_agent(name, kind="lstm", memory_size=MEMORY_SIZE, recurrent_critics=True, cfg=None):
    torch.manual_seed(0)
    models = recurrent_models(
        name, OBSERVATIONS, ACTIONS, kind, NUM_ENVS, recurrent_critics, hidden_size=8, sequence_length=LENGTH
    )
    memory = RandomMemory(memory_size, NUM_ENVS, "cpu") if memory_size else None
    cfg = {"batch_size": 64, "experiment": NO_LOGS, **(cfg or {})}
    if name != "sac":
        cfg["exploration"] = {"noise": None}
    agent = AGENTS[name](models, memory, OBSERVATIONS, ACTIONS, "cpu", cfg)
    agent.init()
    return agent


def ends_at(timestep):
    terminated = torch.tensor([[(timestep, env) in TERMINATIONS] for env in range(NUM_ENVS)])
    truncated = torch.tensor([[(timestep, env) in TRUNCATIONS] for env in range(NUM_ENVS)])
    return terminated, truncated


def policy_output(name, actions, outputs):
    """The deterministic part of the policy's output: SAC's mean action, μ(s) for DDPG/TD3."""
    return outputs.get("mean_actions", actions) if name == "sac" else actions


def roll(agent, name, steps=STEPS, memory_size=MEMORY_SIZE):
    """Act and record ``steps`` steps; returns the policy's outputs by (memory slot, env)."""
    generator = torch.Generator().manual_seed(1)
    acting = torch.zeros(memory_size, NUM_ENVS, 1)
    states = torch.rand(NUM_ENVS, 3, generator=generator) * 2 - 1
    for timestep in range(steps):
        with torch.no_grad():
            actions, _, outputs = agent.act(states, timestep, steps)
            acting[timestep % memory_size] = policy_output(name, actions, outputs)
            terminated, truncated = ends_at(timestep)
            next_states = torch.rand(NUM_ENVS, 3, generator=generator) * 2 - 1
            rewards = torch.rand(NUM_ENVS, 1, generator=generator)
            agent.record_transition(
                states, actions, rewards, next_states, terminated, truncated, {}, timestep, steps
            )
        reset_states = torch.rand(NUM_ENVS, 3, generator=generator) * 2 - 1
        states = torch.where(terminated | truncated, reset_states, next_states)
    return acting


def sampled(agent):
    """A sequence batch and the (memory slot, env) of each of its runs' L + 1 steps, (B, L + 1) each."""
    agent.set_mode("train")
    batch = agent.sample_batch()
    rows = agent.memory.get_sampling_indexes().view(-1, LENGTH + 1)
    return batch, rows // NUM_ENVS, rows % NUM_ENVS


def replay(model, role, agent, states, actions, slots, envs, source_role):
    """The model's outputs on (B·L, ·) rows, run step by step in eval mode from the stored states at
    (slots[:, 0], envs[:, 0]), zeroed after each stored episode end: (B·L, 1)."""
    memory = agent.memory
    names = agent.recurrence.names[source_role]
    hidden = [memory.get_tensor_by_name(name)[slots[:, 0], envs[:, 0]].transpose(0, 1) for name in names]
    ends = memory.get_tensor_by_name("terminated") | memory.get_tensor_by_name("truncated")
    states = states.view(slots.shape[0], LENGTH, -1)
    actions = actions.view(slots.shape[0], LENGTH, -1)
    model.train(False)
    outputs = []
    with torch.no_grad():
        for step in range(LENGTH):
            inputs = {"states": states[:, step], "taken_actions": actions[:, step], "rnn": hidden}
            values, _, extra = model.act(inputs, role=role)
            keep = ~ends[slots[:, step], envs[:, step]].view(1, -1, 1)
            hidden = [state * keep for state in extra["rnn"]]
            outputs.append(values)
    model.train(True)
    return torch.stack(outputs, dim=1).flatten(0, 1)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("name", ["sac", "td3", "ddpg"])
def test_sequence_passes_equal_the_acting_outputs_and_a_step_by_step_replay(name, kind):
    agent = make_agent(name, kind)
    acting = roll(agent, name)
    batch, slots, envs = sampled(agent)
    ends = agent.memory.get_tensor_by_name("terminated") | agent.memory.get_tensor_by_name("truncated")
    inside = ends[slots[:, :-2], envs[:, :-2]].squeeze(-1)  # an end followed by more steps of the run
    terminated_inside = agent.memory.get_tensor_by_name("terminated")[slots[:, :-2], envs[:, :-2]]
    assert bool(terminated_inside.any()) and bool((inside & ~terminated_inside.squeeze(-1)).any())

    policy = agent.models["policy"]
    with torch.no_grad():
        for inputs, states, first in (
            (batch.inputs, batch.states, 0),
            (batch.next_inputs, batch.next_states, 1),
        ):
            actions, _, outputs = policy.act(inputs("policy", states=states), role="policy")
            expected = acting[slots[:, first : first + LENGTH], envs[:, first : first + LENGTH]].flatten(0, 1)
            torch.testing.assert_close(policy_output(name, actions, outputs), expected, atol=1e-5, rtol=0)

        for role in critic_roles(name):
            critic, target = agent.models[role], agent.models[f"target_{role}"]
            q_values = critic.act(
                batch.inputs(role, states=batch.states, taken_actions=batch.actions), role=role
            )[0]
            expected = replay(
                critic, role, agent, batch.states, batch.actions, slots[:, :-1], envs[:, :-1], role
            )
            torch.testing.assert_close(q_values, expected, atol=1e-5, rtol=0)
            next_inputs = batch.next_inputs(
                f"target_{role}", states=batch.next_states, taken_actions=batch.actions
            )
            next_q_values = target.act(next_inputs, role=f"target_{role}")[0]
            expected = replay(
                target, role, agent, batch.next_states, batch.actions, slots[:, 1:], envs[:, 1:], role
            )
            torch.testing.assert_close(next_q_values, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["sac", "td3", "ddpg"])
def test_stored_states_are_the_input_states_and_ended_envs_restart_from_zero(name):
    """Each stored state is the one fed in at that step: the previous one advanced by the model,
    or zero after an episode end (terminated or truncated)."""
    agent = make_agent(name, "lstm", memory_size=32)
    roll(agent, name, steps=STEPS, memory_size=32)
    memory = agent.memory
    states, actions = memory.get_tensor_by_name("states"), memory.get_tensor_by_name("actions")
    for role in ("policy", *critic_roles(name)):
        model, names = agent.models[role], agent.recurrence.names[role]
        stored = [memory.get_tensor_by_name(name_) for name_ in names]  # (32, envs, layers, hidden)
        assert all(bool((state[0] == 0).all()) for state in stored)
        model.train(False)
        for timestep in range(STEPS - 1):
            hidden = [state[timestep].transpose(0, 1) for state in stored]
            with torch.no_grad():
                _, _, outputs = model.act(
                    {"states": states[timestep], "taken_actions": actions[timestep], "rnn": hidden}, role=role
                )
            terminated, truncated = ends_at(timestep)
            for next_state, state in zip(outputs["rnn"], stored):
                expected = next_state * ~(terminated | truncated).view(1, -1, 1)
                torch.testing.assert_close(state[timestep + 1].transpose(0, 1), expected, atol=1e-6, rtol=0)
                for env in range(NUM_ENVS):
                    ended = bool(terminated[env] | truncated[env])
                    assert bool((state[timestep + 1, env] == 0).all()) == ended
        model.train(True)


@pytest.mark.parametrize("name", ["sac", "td3", "ddpg"])
def test_a_batch_never_splits_a_sequence(name):
    """Every sampled run is L + 1 consecutive steps of one env (the memory wraps: slot 15 -> 0), and
    the batch's B·L transitions are those runs' first L steps, run by run."""
    agent = make_agent(name)
    roll(agent, name)
    batch, slots, envs = sampled(agent)
    assert slots.shape == (64, LENGTH + 1)
    assert bool((envs == envs[:, :1]).all())
    assert bool(((slots[:, 1:] - slots[:, :-1]) % MEMORY_SIZE == 1).all())
    stored = agent.memory.get_tensor_by_name("actions")
    torch.testing.assert_close(batch.actions, stored[slots[:, :-1], envs[:, :-1]].flatten(0, 1))


@pytest.mark.parametrize("name", ["sac", "ddpg"])
def test_truncated_transitions_get_no_critic_weight(name):
    agent = make_agent(name)
    roll(agent, name)
    batch, slots, envs = sampled(agent)
    memory = agent.memory
    terminated = memory.get_tensor_by_name("terminated")[slots[:, :-1], envs[:, :-1]].flatten(0, 1)
    truncated = memory.get_tensor_by_name("truncated")[slots[:, :-1], envs[:, :-1]].flatten(0, 1)
    assert batch.weights.shape == (64 * LENGTH, 1)
    torch.testing.assert_close(batch.weights, (~(truncated & ~terminated)).float())
    torch.testing.assert_close(batch.terminated, terminated)


@pytest.mark.parametrize("name", ["sac", "td3", "ddpg"])
def test_evaluation_resets_the_states_at_episode_ends(name):
    """Without a memory, in eval mode: an env whose episode ended acts as from a fresh start."""
    agent = make_agent(name, memory_size=0)
    agent.set_running_mode("eval")
    policy = agent.models["policy"]
    states = torch.rand(NUM_ENVS, 3)
    with torch.no_grad():
        for timestep in range(3):
            actions, _, outputs = agent.act(states, timestep, 10)
            terminated = torch.tensor([[False], [timestep == 2], [False]])
            truncated = torch.tensor([[timestep == 2], [False], [False]])
            agent.record_transition(states, actions, actions, states, terminated, truncated, {}, timestep, 10)
        current = agent.recurrence.states["policy"]
        assert all(bool((state[:, :2] == 0).all()) and bool((state[:, 2] != 0).any()) for state in current)
        actions, _, outputs = agent.act(states, 3, 10)
        zeros = [torch.zeros_like(state) for state in current]
        fresh, _, fresh_outputs = policy.act({"states": states, "rnn": zeros}, role="policy")
    torch.testing.assert_close(
        policy_output(name, actions, outputs)[:2], policy_output(name, fresh, fresh_outputs)[:2]
    )
    assert not torch.allclose(
        policy_output(name, actions, outputs)[2], policy_output(name, fresh, fresh_outputs)[2]
    )


def test_random_steps_still_carry_the_policy_state():
    agent = make_agent("sac", cfg={"random_timesteps": 5})
    roll(agent, "sac", steps=6)
    stored = agent.memory.get_tensor_by_name("rnn_policy_0")
    assert bool((stored[1:4, 1] != 0).any())


@pytest.mark.parametrize("name", ["sac", "td3", "ddpg"])
@pytest.mark.parametrize("recurrent_critics", [True, False], ids=["recurrent-critics", "mlp-critics"])
def test_updates_train_every_model_on_sequences(name, recurrent_critics):
    agent = make_agent(
        name,
        "gru",
        recurrent_critics=recurrent_critics,
        cfg={"batch_size": 8, "policy_delay": 1} if name == "td3" else {"batch_size": 8},
    )
    roll(agent, name)
    roles = ("policy", *critic_roles(name))
    before = {role: [p.detach().clone() for p in agent.models[role].parameters()] for role in roles}
    agent.post_interaction(STEPS, STEPS)
    for role in roles:
        after = list(agent.models[role].parameters())
        assert any(not torch.equal(old, new) for old, new in zip(before[role], after)), role
    assert not any(model.training for model in agent.models.values() if model is not None)


def test_mismatched_sequence_lengths_are_refused():
    models = recurrent_models(
        "sac", OBSERVATIONS, ACTIONS, "lstm", NUM_ENVS, hidden_size=8, sequence_length=4
    )
    models["critic_1"] = RecurrentCritic(
        OBSERVATIONS, ACTIONS, "cpu", "lstm", NUM_ENVS, hidden_size=8, sequence_length=8
    )
    with pytest.raises(ValueError, match="sequence_length"):
        SAC(models, None, OBSERVATIONS, ACTIONS, "cpu", {"experiment": NO_LOGS})


def test_dqn_refuses_a_recurrent_q_network():
    space = gym.spaces.Discrete(2)
    models = dqn_models(OBSERVATIONS, space, hidden=(8,))
    models["q_network"].get_specification = lambda: {"rnn": {"sequence_length": 4, "sizes": [(1, 1, 8)]}}
    with pytest.raises(ValueError, match="does not support recurrent models"):
        DQN(models, None, OBSERVATIONS, space, "cpu", {"experiment": NO_LOGS})


@pytest.mark.parametrize("name", ["sac", "td3", "ddpg"])
def test_a_feed_forward_agent_stores_no_states(name):
    from tests.helpers.off_policy import make_agent as make_feed_forward

    agent, env = make_feed_forward(name)
    agent.init()
    assert agent.recurrence is None
    assert sorted(agent.memory.get_tensor_names()) == sorted(
        ["states", "actions", "rewards", "next_states", "terminated"]
    )
    env.close()


@pytest.mark.parametrize("name", ["sac", "td3"])
def test_acting_and_storing_with_recurrent_models_never_reads_the_host(name):
    """Carrying, storing and resetting the states (policy and critics) are masks on the device."""
    agent = make_agent(name)
    states = torch.rand(NUM_ENVS, 3)
    with torch.no_grad(), count_host_syncs() as counts:
        for timestep in range(6):
            actions = agent.act(states, timestep, 6)[0]
            terminated, truncated = ends_at(timestep)
            agent.record_transition(states, actions, actions, states, terminated, truncated, {}, timestep, 6)
    assert counts["total"] == 0, dict(counts)
