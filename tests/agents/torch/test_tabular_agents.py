"""Q-learning and SARSA: defaults, hand-computed table updates, tables per env, ε-greedy, errors."""

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.functional.tabular import td_update
from rlblocks.agents.torch.q_learning import Q_LEARNING, Q_LEARNING_DEFAULT_CONFIG
from rlblocks.agents.torch.sarsa import SARSA, SARSA_DEFAULT_CONFIG
from rlblocks.agents.torch.tabular import EpsilonGreedyTabularPolicy, TabularAgent
from rlblocks.models.torch import Model, TabularMixin
from rlblocks.utils.config import ConfigKeyError
from tests.helpers.models import CategoricalPolicy
from tests.helpers.syncs import count_host_syncs

NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
OBSERVATIONS, ACTIONS = gym.spaces.Discrete(3), gym.spaces.Discrete(2)
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


class ScriptedTable(TabularMixin, Model):
    """A table whose `compute` plays the given action lists in turn (one list per call)."""

    def __init__(self, num_envs, scripts):
        Model.__init__(self, OBSERVATIONS, ACTIONS, "cpu")
        TabularMixin.__init__(self, num_envs)
        self.q_table = torch.zeros(num_envs, 3, 2)
        self.scripts = list(scripts)

    def compute(self, inputs, role=""):
        return torch.tensor(self.scripts.pop(0)).reshape(-1, 1), {}


def make(agent_class, policy, cfg=None):
    cfg = {"discount_factor": 0.5, "learning_rate": 0.5, "experiment": NO_LOGS, **(cfg or {})}
    agent = agent_class({"policy": policy}, None, OBSERVATIONS, ACTIONS, "cpu", cfg)
    agent.init()
    return agent


def step(agent, states, actions, rewards, next_states, terminated=(False, False), truncated=(False, False)):
    column = lambda values, dtype=None: torch.tensor(values, dtype=dtype).reshape(-1, 1)  # noqa: E731
    agent.record_transition(
        column(states),
        column(actions),
        column(rewards, torch.float32),
        column(next_states),
        column(terminated, torch.bool),
        column(truncated, torch.bool),
        {},
        0,
        10,
    )
    agent.post_interaction(0, 10)


@pytest.mark.parametrize("config", [Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG])
def test_default_configs_are_skrl_0_10s(config):
    assert config == {
        "discount_factor": 0.99,
        "learning_rate": 0.5,
        "random_timesteps": 0,
        "learning_starts": 0,
        "rewards_shaper": None,
        "non_finite": "raise",  # rlblocks: NaN/inf from the env or a loss raises
        "experiment": EXPERIMENT_DEFAULTS,
    }


def test_td_update_matches_hand_computed_values():
    """Q 1, Q' 4, r 2, γ 0.5, α 0.5: 1 + 0.5·(2 + 0.5·4 − 1) = 2.5; terminated: 1 + 0.5·(2 − 1) = 1.5."""
    updated = td_update(
        torch.tensor([[1.0], [1.0]]),
        torch.tensor([[4.0], [4.0]]),
        torch.tensor([[2.0], [2.0]]),
        torch.tensor([[False], [True]]),
        0.5,
        0.5,
    )
    assert updated.squeeze(-1).tolist() == [2.5, 1.5]


def test_q_learning_updates_each_envs_own_table_from_the_greedy_next_value():
    """Env 0: Q[0,0,1] = 1, s' = 2 with Q[0,2] = (3, 6), r = 1 -> 1 + 0.5·(1 + 0.5·6 − 1) = 2.5.
    Env 1: Q[1,1,0] = 2, terminated, r = 0 -> 2 + 0.5·(0 − 2) = 1. Nothing else changes."""
    policy = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=2)
    policy.q_table[0, 0, 1], policy.q_table[0, 2] = 1.0, torch.tensor([3.0, 6.0])
    policy.q_table[1, 1, 0], policy.q_table[1, 0] = 2.0, torch.tensor([9.0, 9.0])
    expected = policy.q_table.clone()
    expected[0, 0, 1], expected[1, 1, 0] = 2.5, 1.0
    agent = make(Q_LEARNING, policy)
    step(agent, (0, 1), (1, 0), (1.0, 0.0), (2, 0), terminated=(False, True))
    assert torch.equal(policy.q_table, expected)


def test_a_time_limit_truncation_bootstraps_from_the_final_observation():
    """Truncated, not terminated: 0 + 0.5·(1 + 0.5·4 − 0) = 1.5 (skrl 0.10 would give 0.5)."""
    policy = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=1)
    policy.q_table[0, 2] = torch.tensor([4.0, 0.0])
    agent = make(Q_LEARNING, policy)
    step(agent, (0,), (0,), (1.0,), (2,), terminated=(False,), truncated=(True,))
    assert policy.q_table[0, 0, 0] == 1.5


def test_sarsa_bootstraps_from_the_policys_next_action_and_then_takes_it():
    """The policy draws a' = (1, 0) at s' = (2, 2); Q[e,2] = (3, 6) -> env 0 uses 6, env 1 uses 3:
    1 + 0.5·(1 + 0.5·6 − 1) = 2.5 and 1 + 0.5·(1 + 0.5·3 − 1) = 1.75. At the next step env 0,
    still in its episode at s' = 2, takes the planned a' = 1; env 1 ended, so it acts afresh (1)."""
    policy = ScriptedTable(2, scripts=[[1, 0], [0, 1]])
    policy.q_table[:, 0, 1] = 1.0
    policy.q_table[:, 2] = torch.tensor([3.0, 6.0])
    agent = make(SARSA, policy)
    step(agent, (0, 0), (1, 1), (1.0, 1.0), (2, 2), truncated=(False, True))
    assert policy.q_table[:, 0, 1].tolist() == [2.5, 1.75]
    actions = agent.act(torch.tensor([[2], [2]]), 1, 10)[0]
    assert actions.squeeze(-1).tolist() == [1, 1]


def test_a_shared_one_row_table_moves_by_the_mean_step_of_the_envs_that_meet():
    """Two envs update Q[0,0,0] = 0 with r = 1 and r = 3 (terminated): mean step 0.5·(1 + 3)/2 = 1."""
    policy = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=1)
    agent = make(Q_LEARNING, policy)
    step(agent, (0, 0), (0, 0), (1.0, 3.0), (1, 1), terminated=(True, True))
    assert policy.q_table[0, 0, 0] == 1.0
    assert policy.q_table.sum() == 1.0


def test_epsilon_greedy_extremes():
    greedy = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=500, epsilon=0.0)
    greedy.q_table[:, 1] = torch.tensor([0.0, 1.0])
    states = torch.ones(500, 1, dtype=torch.int64)
    assert (greedy.act({"states": states})[0] == 1).all()
    random = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=500, epsilon=1.0)
    random.q_table[:, 1] = torch.tensor([0.0, 1.0])
    torch.manual_seed(0)
    share_of_ones = random.act({"states": states})[0].float().mean()
    assert 0.4 < share_of_ones < 0.6
    torch.manual_seed(0)
    ties = greedy.act({"states": torch.zeros(500, 1, dtype=torch.int64)})[0].float().mean()
    assert 0.4 < ties < 0.6  # a fresh table does not always choose action 0


def test_eval_running_mode_acts_greedily_on_the_mean_of_the_env_tables():
    """Tables of env 0 and 1 at s = 0: (1, 0) and (0, 3) -> mean (0.5, 1.5): action 1, for any N."""
    policy = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=2, epsilon=1.0)
    policy.q_table[0, 0] = torch.tensor([1.0, 0.0])
    policy.q_table[1, 0] = torch.tensor([0.0, 3.0])
    agent = make(Q_LEARNING, policy)
    agent.set_running_mode("eval")
    actions = agent.act(torch.zeros(5, 1, dtype=torch.int64), 0, 1)[0]
    assert actions.squeeze(-1).tolist() == [1] * 5


def test_a_training_step_reads_nothing_on_the_host():
    policy = EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=2)
    for agent_class in (Q_LEARNING, SARSA):
        agent = make(agent_class, policy)
        agent.episode_end_hint = False
        with count_host_syncs() as counts:
            for _ in range(5):
                agent.act(torch.tensor([[0], [1]]), 0, 10)
                step(agent, (0, 1), (1, 0), (1.0, 0.0), (2, 0))
        assert counts["total"] == 0


@pytest.mark.parametrize("agent_class", [Q_LEARNING, SARSA])
def test_agents_sit_on_the_tabular_family_base(agent_class):
    assert agent_class.__mro__[1] is TabularAgent
    assert TabularAgent.__bases__[0].__name__ == "Agent"


@pytest.mark.parametrize("agent_class", [Q_LEARNING, SARSA])
def test_unknown_config_key_names_the_nearest(agent_class):
    with pytest.raises(ConfigKeyError, match='did you mean "learning_rate"'):
        make(agent_class, EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS), cfg={"learning_rat": 0.1})


@pytest.mark.parametrize("agent_class", [Q_LEARNING, SARSA])
def test_wrong_models_are_refused_with_a_message(agent_class):
    with pytest.raises(
        ValueError, match='needs a TabularMixin "policy" holding a q_table, got CategoricalPolicy'
    ):
        make(agent_class, CategoricalPolicy(gym.spaces.Box(-1, 1, (2,)), ACTIONS))
    with pytest.raises(ValueError, match=r'needs a "policy" model; got roles \[\]'):
        agent_class({}, None, OBSERVATIONS, ACTIONS, "cpu", {"experiment": NO_LOGS})


def test_a_table_with_neither_one_row_per_env_nor_one_row_is_refused():
    agent = make(Q_LEARNING, EpsilonGreedyTabularPolicy(OBSERVATIONS, ACTIONS, num_envs=3))
    with pytest.raises(ValueError, match=r"with num_envs = 2 \(a table per env\) or 1"):
        step(agent, (0, 1), (1, 0), (1.0, 0.0), (2, 0))
