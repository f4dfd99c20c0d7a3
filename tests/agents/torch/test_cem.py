"""CEM: defaults, the episode scores worked out by hand, the elite cross-entropy, several envs."""

import logging

import gymnasium as gym
import pytest
import torch
import torch.nn.functional as F

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.cem import CEM, CEM_DEFAULT_CONFIG
from rlblocks.agents.torch.functional.episodes import episode_returns
from rlblocks.memories.torch import RandomMemory
from rlblocks.utils.config import ConfigKeyError
from tests.helpers.models import CategoricalPolicy, Value

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
OBSERVATIONS, ACTIONS = gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(2)


def make_cem(num_envs=2, cfg=None, memory_size=None, models=None):
    cfg = {"rollouts": 4, "discount_factor": 0.5, "experiment": NO_LOGS, **(cfg or {})}
    torch.manual_seed(0)
    models = models or {"policy": CategoricalPolicy(OBSERVATIONS, ACTIONS, hidden=(8,))}
    memory = RandomMemory(memory_size or cfg["rollouts"], num_envs)
    agent = CEM(models, memory, OBSERVATIONS, ACTIONS, "cpu", cfg)
    agent.init()
    return agent


def play(agent, rewards, ends, start=0):
    """Record (T, N) rewards and episode ends (truncations) with fixed states and actions 0/1 by env."""
    num_steps, num_envs = rewards.shape
    for t in range(num_steps):
        states = torch.full((num_envs, 2), float(start + t))
        actions = (torch.arange(num_envs) % 2).reshape(-1, 1)
        agent.act(states, start + t, 100)
        agent.record_transition(
            states,
            actions,
            rewards[t].reshape(-1, 1).float(),
            states,
            torch.zeros(num_envs, 1, dtype=torch.bool),
            ends[t].reshape(-1, 1).bool(),
            {},
            start + t,
            100,
        )
        agent.post_interaction(start + t, 100)


def test_default_config_is_skrl_0_10s():
    assert CEM_DEFAULT_CONFIG == {
        "rollouts": 16,
        "percentile": 0.70,
        "discount_factor": 0.99,
        "learning_rate": 1e-2,
        "learning_rate_scheduler": None,
        "learning_rate_scheduler_kwargs": {},
        "state_preprocessor": None,
        "state_preprocessor_kwargs": {},
        "random_timesteps": 0,
        "learning_starts": 0,
        "rewards_shaper": None,
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


def test_episode_returns_match_hand_computed_two_env_rollout():
    """γ = 0.5. Env 0: rewards 1 2 3 4, an end after step 1 -> episode (1 + 0.5·2) = 2, then a running
    episode (3 + 0.5·4 = 5, not finished). Env 1: rewards 1 1 1 1, ends after steps 0 and 3 ->
    episodes 1 and (1 + 0.5 + 0.25) = 1.75. skrl's reversed exponents would give env 0's first
    episode 0.5·1 + 2 = 2.5."""
    rewards = torch.tensor([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0], [4.0, 1.0]]).unsqueeze(-1)
    ends = torch.tensor([[False, True], [True, False], [False, False], [False, True]]).unsqueeze(-1)
    result = episode_returns(rewards, ends, 0.5)
    assert result.returns.squeeze(-1).tolist() == [[2.0, 1.0], [2.0, 1.75], [5.0, 1.75], [5.0, 1.75]]
    assert result.is_finished.squeeze(-1).tolist() == [
        [True, True],
        [True, True],
        [False, True],
        [False, True],
    ]
    assert result.is_first.squeeze(-1).tolist() == [
        [True, True],
        [False, True],
        [True, False],
        [False, False],
    ]


def test_update_is_the_cross_entropy_of_the_elite_episodes_of_every_env():
    """Four envs, rollouts 4, γ 0.5, percentile 0.5. Returns: env 0: one 4-step episode of reward 1
    (1.875); env 1: two 2-step episodes of rewards 2 (3, 3); env 2: rewards 0 (0, 0 ...); env 3 none
    finished. Episode returns {1.875, 3, 3, 0, 0} -> median 1.875: the elite are env 0's episode and
    env 1's two episodes, 8 (state, action) pairs."""
    agent = make_cem(num_envs=4, cfg={"percentile": 0.5, "experiment": {**NO_LOGS, "write_interval": 1000}})
    rewards = torch.tensor([[1.0, 2, 0, 5]] * 4)
    ends = torch.tensor([[0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 0]])
    policy = agent.policy
    # rows of env 0 (action 0) and env 1 (action 1) at each of the 4 steps
    states = torch.arange(4.0).reshape(4, 1, 1).expand(4, 2, 2).reshape(8, 2)
    actions = torch.tensor([0, 1] * 4)
    with torch.no_grad():
        expected = F.cross_entropy(policy.compute({"states": states})[0], actions)
    before = [parameter.detach().clone() for parameter in policy.parameters()]
    play(agent, rewards, ends)
    tracked = agent.tracking_data
    assert torch.isclose(tracked[tags.POLICY_LOSS][0], expected)
    assert tracked[tags.RETURN_THRESHOLD][0] == pytest.approx(1.875)
    assert tracked[tags.MEAN_DISCOUNTED_RETURNS][0] == pytest.approx((1.875 + 3 + 3 + 0 + 0) / 5)
    assert any(not torch.equal(old, new) for old, new in zip(before, policy.parameters()))


def test_an_episode_spanning_two_rollouts_is_scored_whole_in_the_second():
    """Env 0 runs 6 steps of reward 1 (ending at step 5) across rollouts of 4; env 1 ends every step
    with reward 0. γ 0.5: env 0's episode scores 1 + 0.5 + ... + 0.5^5 = 1.96875, counted once."""
    agent = make_cem(cfg={"percentile": 1.0, "experiment": {**NO_LOGS, "write_interval": 1000}})
    rewards = torch.tensor([[1.0, 0.0]] * 8)
    ends = torch.tensor([[0, 1]] * 5 + [[1, 1]] + [[0, 1]] * 2)
    play(agent, rewards, ends)
    thresholds = [float(value) for value in agent.tracking_data[tags.RETURN_THRESHOLD]]
    assert thresholds == [0.0, pytest.approx(1.96875)]
    means = [float(value) for value in agent.tracking_data[tags.MEAN_DISCOUNTED_RETURNS]]
    assert means[1] == pytest.approx(1.96875 / 5)  # env 0's episode and env 1's four one-step episodes


def test_no_finished_episode_warns_once_and_skips_the_update(caplog):
    agent = make_cem()
    before = [parameter.detach().clone() for parameter in agent.policy.parameters()]
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        play(agent, torch.ones(8, 2), torch.zeros(8, 2))
    warnings = [record for record in caplog.records if "no episode finished" in record.getMessage()]
    assert len(warnings) == 1
    assert all(torch.equal(old, new) for old, new in zip(before, agent.policy.parameters()))


def test_learning_starts_delays_the_update():
    agent = make_cem(cfg={"learning_starts": 4})
    before = [parameter.detach().clone() for parameter in agent.policy.parameters()]
    play(agent, torch.ones(4, 2), torch.ones(4, 2))
    assert all(torch.equal(old, new) for old, new in zip(before, agent.policy.parameters()))
    play(agent, torch.ones(4, 2), torch.ones(4, 2), start=4)
    assert any(not torch.equal(old, new) for old, new in zip(before, agent.policy.parameters()))


def test_eval_running_mode_acts_greedily():
    agent = make_cem()
    agent.set_running_mode("eval")
    states = torch.randn(16, 2)
    with torch.no_grad():
        greedy = torch.argmax(agent.policy.compute({"states": states})[0], dim=-1, keepdim=True)
        assert torch.equal(agent.act(states, 0, 1)[0], greedy)


def test_unknown_config_key_names_the_nearest():
    with pytest.raises(ConfigKeyError, match='did you mean "percentile"'):
        make_cem(cfg={"percentil": 0.5})


def test_a_policy_that_is_not_categorical_is_refused():
    with pytest.raises(ValueError, match='CEM needs a CategoricalMixin "policy"'):
        make_cem(models={"policy": Value(OBSERVATIONS, ACTIONS)})
    with pytest.raises(ValueError, match=r"CEM needs a \"policy\" model; got roles \['value'\]"):
        make_cem(models={"value": Value(OBSERVATIONS, ACTIONS)})


def test_memory_must_hold_exactly_one_rollout():
    with pytest.raises(ValueError, match=r"memory_size=5 but cfg\[\"rollouts\"\]=4"):
        make_cem(memory_size=5)
