"""Recurrent policies and values in the on-policy agents (PPO, A2C, RPO, TRPO).

The rollouts are driven by hand (`drive`): random observations and a fixed pattern of
terminations and truncations (`END_PATTERN`) that puts both inside training sequences, at their
last steps, and on the same step; so a test knows exactly which states must be zero when.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.agents.torch.a2c import A2C
from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.rpo import RPO
from rlblocks.agents.torch.trpo import TRPO
from rlblocks.memories.torch import RandomMemory
from tests.helpers.models import GaussianPolicy, Value
from tests.helpers.recurrent_models import (
    DocumentedLSTMPolicy,
    RecurrentCategoricalPolicy,
    RecurrentGaussianPolicy,
    RecurrentSharedModel,
    RecurrentValue,
)
from tests.helpers.syncs import count_host_syncs

NUM_ENVS, ROLLOUTS, LENGTH = 3, 8, 4
OBSERVATIONS = gymnasium.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
ACTIONS = gymnasium.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}

# (time step, env) -> "terminated" / "truncated" / "both"; sequences are steps 0-3 and 4-7
END_PATTERN = {
    (1, 0): "terminated",  # inside env 0's first sequence
    (6, 0): "truncated",  # inside env 0's second sequence
    (2, 1): "truncated",  # inside env 1's first sequence
    (3, 1): "terminated",  # at the last step of a sequence
    (5, 1): "both",  # terminated on its last allowed step
    (4, 2): "truncated",  # at the first step of a sequence
    (5, 2): "terminated",
}
AGENTS = {"ppo": PPO, "a2c": A2C, "rpo": RPO, "trpo": TRPO}
TINY_STEPS = {
    "ppo": {"learning_rate": 1e-12},
    "a2c": {"learning_rate": 1e-12},
    "rpo": {"learning_rate": 1e-12},
}


def end_flags(steps=ROLLOUTS, num_envs=NUM_ENVS):
    """(steps, num_envs, 1) terminated and truncated flags of `END_PATTERN` (repeated every 8 steps)."""
    terminated = torch.zeros(steps, num_envs, 1, dtype=torch.bool)
    truncated = torch.zeros_like(terminated)
    for t in range(steps):
        for env in range(num_envs):
            kind = END_PATTERN.get((t % ROLLOUTS, env))
            terminated[t, env] = kind in ("terminated", "both")
            truncated[t, env] = kind in ("truncated", "both")
    return terminated, truncated


def policy_model(name, kind="lstm"):
    if name == "documented":
        return DocumentedLSTMPolicy(OBSERVATIONS, ACTIONS, num_envs=NUM_ENVS, sequence_length=LENGTH)
    return RecurrentGaussianPolicy(
        OBSERVATIONS, ACTIONS, kind=kind, num_envs=NUM_ENVS, sequence_length=LENGTH
    )


def make_agent(algo, policy=None, value=None, cfg=None, rollouts=ROLLOUTS, num_envs=NUM_ENVS):
    policy = policy if policy is not None else policy_model("lstm")
    if value is None:
        value = RecurrentValue(OBSERVATIONS, ACTIONS, kind="gru", num_envs=num_envs, sequence_length=LENGTH)
    cfg = {
        "rollouts": rollouts,
        "mini_batches": 2,
        "experiment": NO_LOGS,
        **({} if algo == "a2c" else {"learning_epochs": 2}),
        **(cfg or {}),
    }
    if algo == "rpo":
        cfg.setdefault("alpha", 0.0)
    memory = RandomMemory(rollouts, num_envs)
    agent = AGENTS[algo]({"policy": policy, "value": value}, memory, OBSERVATIONS, ACTIONS, "cpu", cfg)
    agent.init()
    return agent


def drive(agent, steps, seed=0, timesteps=1000, observation_size=2):
    """Act and record ``steps`` steps (updates run at their rollout boundaries) with `END_PATTERN` ends."""
    generator = torch.Generator().manual_seed(seed)
    terminated, truncated = end_flags(steps, agent.memory.num_envs if agent.memory else NUM_ENVS)
    num_envs = terminated.shape[1]
    for t in range(steps):
        states = torch.randn(num_envs, observation_size, generator=generator)
        with torch.no_grad():
            actions = agent.act(states, t, timesteps)[0]
            agent.record_transition(
                states=states,
                actions=actions,
                rewards=torch.randn(num_envs, 1, generator=generator),
                next_states=torch.randn(num_envs, observation_size, generator=generator),
                terminated=terminated[t],
                truncated=truncated[t],
                infos={},
                timestep=t,
                timesteps=timesteps,
            )
        agent.post_interaction(t, timesteps)


def record_reevaluations(agent):
    """Wrap the agent's re-evaluations: a list of (kind, re-evaluated, stored) filled by every call."""
    records = []
    log_prob_of, values_of = agent.taken_action_log_prob, agent.predicted_values

    def log_prob(batch):
        result = log_prob_of(batch)
        records.append(("log_prob", result.detach().clone(), batch.log_prob.clone()))
        return result

    def values(batch):
        result = values_of(batch)
        records.append(("values", result.detach().clone(), batch.values.clone()))
        return result

    agent.taken_action_log_prob, agent.predicted_values = log_prob, values
    return records


@pytest.mark.parametrize("algo", sorted(AGENTS))
@pytest.mark.parametrize("policy_kind", ["documented", "lstm", "gru"])
def test_reevaluated_log_probs_and_values_equal_the_stored_ones(algo, policy_kind):
    """With (nearly) zero steps, every re-evaluation in the update replays the rollout exactly."""
    torch.manual_seed(1)
    policy = policy_model(policy_kind, kind=policy_kind)
    agent = make_agent(algo, policy=policy, cfg=TINY_STEPS.get(algo, {"value_learning_rate": 1e-12}))
    records = record_reevaluations(agent)
    drive(agent, ROLLOUTS)
    if algo == "trpo":  # the line search moves the policy: only its first evaluation is at the old parameters
        records = [records[0]] + [record for record in records if record[0] == "values"]
    kinds = {record[0] for record in records}
    assert kinds == {"log_prob", "values"}
    for kind, reevaluated, stored in records:
        assert reevaluated.shape == stored.shape
        torch.testing.assert_close(reevaluated, stored, atol=1e-5, rtol=0, msg=kind)


def test_shared_recurrent_model_replays_with_one_set_of_states():
    torch.manual_seed(2)
    model = RecurrentSharedModel(OBSERVATIONS, ACTIONS, num_envs=NUM_ENVS, sequence_length=LENGTH)
    agent = make_agent("ppo", policy=model, value=model, cfg={"learning_rate": 1e-12})
    assert agent.memory.get_tensor_names().count("rnn_policy_0") == 1
    assert not any(name.startswith("rnn_value") for name in agent.memory.get_tensor_names())
    records = record_reevaluations(agent)
    drive(agent, ROLLOUTS)
    for kind, reevaluated, stored in records:
        torch.testing.assert_close(reevaluated, stored, atol=1e-5, rtol=0, msg=kind)


def test_recurrent_policy_with_feed_forward_value():
    torch.manual_seed(3)
    value = Value(OBSERVATIONS, ACTIONS, hidden=(8,))
    agent = make_agent("ppo", value=value, cfg={"learning_rate": 1e-12})
    assert set(agent.recurrent.sizes) == {"policy"}
    records = record_reevaluations(agent)
    drive(agent, ROLLOUTS)
    for kind, reevaluated, stored in records:
        torch.testing.assert_close(reevaluated, stored, atol=1e-5, rtol=0, msg=kind)


def test_categorical_recurrent_policy_replays_exactly():
    torch.manual_seed(4)
    actions = gymnasium.spaces.Discrete(3)
    policy = RecurrentCategoricalPolicy(
        OBSERVATIONS, actions, kind="rnn", num_envs=NUM_ENVS, sequence_length=LENGTH
    )
    value = RecurrentValue(OBSERVATIONS, actions, kind="lstm", num_envs=NUM_ENVS, sequence_length=LENGTH)
    cfg = {
        "rollouts": ROLLOUTS,
        "mini_batches": 3,
        "learning_epochs": 1,
        "learning_rate": 1e-12,
        "experiment": NO_LOGS,
    }
    agent = PPO(
        {"policy": policy, "value": value},
        RandomMemory(ROLLOUTS, NUM_ENVS),
        OBSERVATIONS,
        actions,
        "cpu",
        cfg,
    )
    agent.init()
    records = record_reevaluations(agent)
    drive(agent, ROLLOUTS)
    assert len(records) == 6  # 3 mini-batches of whole sequences (2, 2, 2 of the 6)
    for kind, reevaluated, stored in records:
        assert reevaluated.shape[0] == 2 * LENGTH
        torch.testing.assert_close(reevaluated, stored, atol=1e-5, rtol=0, msg=kind)


def test_memory_tensors_follow_the_specification():
    agent = make_agent("ppo")
    memory = agent.memory
    assert memory.get_tensor_by_name("rnn_policy_0").shape == (ROLLOUTS, NUM_ENVS, 1, 16)
    assert memory.get_tensor_by_name("rnn_policy_1").shape == (ROLLOUTS, NUM_ENVS, 1, 16)
    assert memory.get_tensor_by_name("rnn_value_0").shape == (ROLLOUTS, NUM_ENVS, 1, 16)
    assert "rnn_value_1" not in memory.get_tensor_names()  # a GRU has one state
    assert agent.recurrent.sequence_length == LENGTH


def test_stored_states_are_the_input_states_and_ended_envs_restart_from_zero():
    torch.manual_seed(5)
    agent = make_agent("ppo")
    terminated, truncated = end_flags()
    ended = terminated | truncated
    inputs = []
    original_act = agent.policy.act

    def act(model_inputs, role=""):
        inputs.append([state.clone() for state in model_inputs["rnn"]])
        return original_act(model_inputs, role)

    agent.policy.act = act
    drive(agent, ROLLOUTS - 1)  # no update yet
    stored = [agent.memory.get_tensor_by_name(f"rnn_policy_{i}") for i in (0, 1)]
    for t in range(ROLLOUTS - 1):
        for i in (0, 1):
            # memory (rollouts, envs, layers, hidden) holds what the step was fed, (layers, envs, hidden)
            torch.testing.assert_close(stored[i][t], inputs[t][i].transpose(0, 1), atol=0, rtol=0)
        if t == 0:
            assert all(torch.count_nonzero(state) == 0 for state in inputs[0])
            continue
        for env in range(NUM_ENVS):
            is_zero = all(torch.count_nonzero(state[:, env]) == 0 for state in inputs[t])
            assert is_zero == bool(ended[t - 1, env]), (t, env)


def test_value_states_of_ended_envs_are_zero_at_the_next_step():
    torch.manual_seed(6)
    agent = make_agent("a2c")
    drive(agent, 2)  # step 1 terminates env 0
    value_state = agent.recurrent.states["value"][0]
    assert torch.count_nonzero(value_state[:, 0]) == 0
    assert torch.count_nonzero(value_state[:, 1]) > 0


@pytest.mark.parametrize("algo", sorted(AGENTS))
def test_rollouts_that_cut_a_sequence_are_refused(algo):
    with pytest.raises(
        ValueError, match=r'sequence_length=4 steps of one env, but cfg\["rollouts"\]=6.*rollouts=8'
    ):
        make_agent(algo, rollouts=6)


@pytest.mark.parametrize("algo", sorted(AGENTS))
def test_more_mini_batches_than_sequences_are_refused(algo):
    with pytest.raises(
        ValueError, match=r'6 sequences .* fewer than cfg\["mini_batches"\]=7.*mini_batches <= 6'
    ):
        make_agent(algo, cfg={"mini_batches": 7})


def test_states_are_made_for_the_envs_acted_on():
    """A model built for 1 env trains on 3 and evaluates on 2: the states follow the envs."""
    policy = RecurrentGaussianPolicy(OBSERVATIONS, ACTIONS, num_envs=1, sequence_length=LENGTH)
    agent = make_agent("ppo", policy=policy, cfg={"learning_rate": 1e-12})
    assert agent.recurrent.states["policy"][0].shape == (1, NUM_ENVS, 16)
    records = record_reevaluations(agent)
    drive(agent, ROLLOUTS)
    for kind, reevaluated, stored in records:
        torch.testing.assert_close(reevaluated, stored, atol=1e-5, rtol=0, msg=kind)
    agent.set_running_mode("eval")
    with torch.no_grad():
        agent.act(torch.randn(2, 2), 0, 10)
    assert agent.recurrent.states["policy"][0].shape == (1, 2, 16)


@pytest.mark.parametrize("algo", sorted(AGENTS))
def test_minibatches_hold_whole_shuffled_sequences(algo):
    torch.manual_seed(7)
    agent = make_agent(algo, cfg={"mini_batches": 3})
    drive(agent, ROLLOUTS - 1)
    with torch.no_grad():
        actions = agent.act(torch.randn(NUM_ENVS, 2), ROLLOUTS - 1, 1000)[0]
        agent.record_transition(
            states=torch.randn(NUM_ENVS, 2),
            actions=actions,
            rewards=torch.zeros(NUM_ENVS, 1),
            next_states=torch.randn(NUM_ENVS, 2),
            terminated=torch.zeros(NUM_ENVS, 1, dtype=torch.bool),
            truncated=torch.zeros(NUM_ENVS, 1, dtype=torch.bool),
            infos={},
            timestep=ROLLOUTS - 1,
            timesteps=1000,
        )
    rollout = agent.rollout_with_advantages()
    memory_states = agent.memory.get_tensor_by_name("states")  # (rollouts, envs, obs)
    expected = {
        (env, start): memory_states[start : start + LENGTH, env]
        for env in range(NUM_ENVS)
        for start in range(0, ROLLOUTS, LENGTH)
    }
    seen = []
    for batch in agent.minibatches(rollout, 3):
        assert batch.states.shape[0] % LENGTH == 0
        for sequence in batch.states.split(LENGTH):
            match = [key for key, value in expected.items() if torch.equal(value, sequence)]
            assert len(match) == 1
            seen.append(match[0])
    assert sorted(seen) == sorted(expected)


def test_evaluation_resets_states_at_episode_ends():
    torch.manual_seed(8)
    agent = make_agent("ppo")
    drive(agent, 3)
    agent.set_running_mode("eval")
    assert all(torch.count_nonzero(state) == 0 for state in agent.recurrent.states["policy"])
    states = torch.randn(NUM_ENVS, 2)
    with torch.no_grad():
        actions = agent.act(states, 0, 10)[0]
        agent.record_transition(
            states=states,
            actions=actions,
            rewards=torch.zeros(NUM_ENVS, 1),
            next_states=states,
            terminated=torch.tensor([[False], [True], [False]]),
            truncated=torch.tensor([[True], [False], [False]]),
            infos={},
            timestep=0,
            timesteps=10,
        )
    hidden = agent.recurrent.states["policy"][0]
    assert torch.count_nonzero(hidden[:, 0]) == 0 and torch.count_nonzero(hidden[:, 1]) == 0
    assert torch.count_nonzero(hidden[:, 2]) > 0
    assert agent.recurrent.states["value"][0].abs().sum() == 0  # the value is not stepped while evaluating


def test_deterministic_evaluation_equals_a_step_by_step_replay():
    torch.manual_seed(9)
    agent = make_agent("ppo")
    agent.set_running_mode("eval")
    layer = agent.policy.rnn
    states = [torch.randn(NUM_ENVS, 2) for _ in range(3)]
    hidden = [torch.zeros(1, NUM_ENVS, 16), torch.zeros(1, NUM_ENVS, 16)]
    for step, observation in enumerate(states):
        with torch.no_grad():
            actions = agent.act(observation, step, 10)[0]
            features, hidden = layer(observation, hidden)
            torch.testing.assert_close(actions, agent.policy.head(features))
            agent.record_transition(
                states=observation,
                actions=actions,
                rewards=torch.zeros(NUM_ENVS, 1),
                next_states=observation,
                terminated=torch.zeros(NUM_ENVS, 1, dtype=torch.bool),
                truncated=torch.zeros(NUM_ENVS, 1, dtype=torch.bool),
                infos={},
                timestep=step,
                timesteps=10,
            )


def test_recurrent_acting_reads_nothing_on_the_host():
    agent = make_agent("ppo")
    with count_host_syncs() as counts:
        drive(agent, ROLLOUTS - 1)
    assert counts["total"] == 0


def test_feed_forward_agent_has_no_recurrent_states():
    policy, value = (
        GaussianPolicy(OBSERVATIONS, ACTIONS, hidden=(8,)),
        Value(OBSERVATIONS, ACTIONS, hidden=(8,)),
    )
    agent = make_agent("ppo", policy=policy, value=value, cfg={"mini_batches": 7})  # no sequences to refuse
    assert agent.recurrent is None
    assert not any(name.startswith("rnn_") for name in agent.memory.get_tensor_names())


# Parameters of a feed-forward PPO after two updates of `drive`, recorded with the agent as it was
# before recurrent support (commit 284fff9): the feed-forward path must be unchanged.
FEED_FORWARD_REFERENCE = {"sum": 1.3312911987304688, "abs_sum": 18.06521224975586}


def test_feed_forward_ppo_is_unchanged():
    torch.manual_seed(10)
    policy, value = (
        GaussianPolicy(OBSERVATIONS, ACTIONS, hidden=(8,)),
        Value(OBSERVATIONS, ACTIONS, hidden=(8,)),
    )
    agent = make_agent("ppo", policy=policy, value=value)
    drive(agent, 2 * ROLLOUTS)
    parameters = torch.cat(
        [parameter.detach().reshape(-1) for parameter in agent.optimizer.param_groups[0]["params"]]
    )
    assert parameters.sum().item() == pytest.approx(FEED_FORWARD_REFERENCE["sum"], rel=1e-6)
    assert parameters.abs().sum().item() == pytest.approx(FEED_FORWARD_REFERENCE["abs_sum"], rel=1e-6)
