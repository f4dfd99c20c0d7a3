import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.dqn import DDQN_DEFAULT_CONFIG, DQN, DQN_DEFAULT_CONFIG
from rlblocks.envs.torch import wrap_env
from tests.helpers.envs import EndlessRewardEnv
from tests.helpers.models import GaussianPolicy, QNetwork
from tests.helpers.off_policy import make_agent, parameters_of, set_linear, train, vector_env


@pytest.mark.parametrize("defaults", [DQN_DEFAULT_CONFIG, DDQN_DEFAULT_CONFIG])
def test_default_config_keeps_skrl_keys_and_defaults(defaults):
    expected = {
        "gradient_steps": 1,
        "batch_size": 64,
        "discount_factor": 0.99,
        "polyak": 0.005,
        "learning_rate": 1e-3,
        "learning_rate_scheduler": None,
        "state_preprocessor": None,
        "random_timesteps": 0,
        "learning_starts": 0,
        "update_interval": 1,
        "target_update_interval": 10,
        "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.05, "timesteps": 1000},
        "rewards_shaper": None,
    }
    assert {key: defaults[key] for key in expected} == expected


def linear_agent(name, cfg=None):
    """CartPole (4 observations, 2 actions): Q(s) = [s_0, s_1]; the target swaps them: Q̄(s) = [s_1, s_0]."""
    env = vector_env("CartPole-v1")
    models = {
        role: QNetwork(env.observation_space, env.action_space, hidden=())
        for role in ("q_network", "target_q_network")
    }
    set_linear(models["q_network"], [[1, 0, 0, 0], [0, 1, 0, 0]])
    agent, env = make_agent(name, env=env, cfg=cfg, models=models)
    set_linear(agent.target_q_network, [[0, 1, 0, 0], [1, 0, 0, 0]])
    return agent, env


@pytest.mark.parametrize(("name", "expected"), [("dqn", [2.5, 2.0, 1.0]), ("ddqn", [1.5, 1.0, 1.0])])
def test_targets_match_hand_computed(name, expected):
    """s' = [[3, 1, 0, 0], [0, 2, 0, 0], [5, 5, 0, 0]], r = 1, γ = 0.5, terminated [F, F, T].

    Online Q(s') = [[3, 1], [0, 2], ·] picks actions [0, 1]; target Q̄(s') = [[1, 3], [2, 0], ·].
    DQN:  y = 1 + 0.5·max Q̄ = [1 + 1.5, 1 + 1] = [2.5, 2]; the terminated row is r = 1.
    DDQN: y = 1 + 0.5·Q̄(s', argmax Q) = [1 + 0.5·1, 1 + 0.5·0] = [1.5, 1].
    """
    agent, _ = linear_agent(name, {"discount_factor": 0.5})
    batch = type("Batch", (), {})()
    batch.next_states = torch.tensor([[3.0, 1.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [5.0, 5.0, 0.0, 0.0]])
    batch.rewards, batch.terminated = torch.ones(3, 1), torch.tensor([[False], [False], [True]])
    assert torch.allclose(agent.q_targets(batch), torch.tensor(expected).view(-1, 1))


def test_epsilon_greedy_at_the_extremes_and_greedy_without_a_schedule():
    states = torch.randn(512, 4)
    greedy_agent, _ = linear_agent("dqn", {"exploration": {"initial_epsilon": 0.0, "final_epsilon": 0.0}})
    greedy = states[:, :2].argmax(dim=1, keepdim=True)
    with torch.no_grad():
        assert torch.equal(greedy_agent.act(states, 0, 10)[0], greedy)
        off_agent, _ = linear_agent("dqn", {"exploration": {"timesteps": 0}})
        assert torch.equal(off_agent.act(states, 0, 10)[0], greedy)
        random_agent, _ = linear_agent("dqn", {"exploration": {"initial_epsilon": 1.0, "final_epsilon": 1.0}})
        actions, log_prob, outputs = random_agent.act(states, 0, 10)
    assert actions.dtype == torch.int64 and actions.shape == (512, 1)
    assert log_prob is None and outputs is None
    assert 0.4 < (actions == greedy).float().mean() < 0.6  # random: agrees with greedy half the time


def test_eval_is_greedy_whatever_epsilon():
    agent, _ = linear_agent("dqn", {"exploration": {"initial_epsilon": 1.0, "final_epsilon": 1.0}})
    agent.set_running_mode("eval")
    states = torch.randn(64, 4)
    with torch.no_grad():
        assert torch.equal(agent.act(states, 0, 10)[0], states[:, :2].argmax(dim=1, keepdim=True))


def test_target_network_follows_only_every_target_update_interval_and_polyak_one_is_a_hard_copy():
    agent, env = make_agent("dqn", cfg={"target_update_interval": 5, "polyak": 1.0, "learning_starts": 10**6})
    train(agent, env, 12)
    agent.set_mode("train")
    target = parameters_of(agent.target_q_network)
    agent._update(timestep=3, timesteps=100)
    assert all(torch.equal(a, b) for a, b in zip(parameters_of(agent.target_q_network), target))
    agent._update(timestep=5, timesteps=100)
    online = parameters_of(agent.q_network)
    assert all(torch.equal(a, b) for a, b in zip(parameters_of(agent.target_q_network), online))


def test_updates_only_every_update_interval():
    agent, env = make_agent("dqn", cfg={"update_interval": 4})
    updates = []
    agent._update = lambda timestep, timesteps: updates.append(timestep)
    train(agent, env, 10)
    assert updates == [0, 4, 8]


def test_truncation_bootstraps_so_q_learns_the_endless_value():
    """Reward 1 forever, truncated every 5 steps, γ = 0.8: Q = 1/(1 − γ) = 5 for both actions.

    Treating truncation as termination would give the mean of (1 − 0.8^(5−t))/0.2 over t, ≈ 2.9.
    """
    torch.manual_seed(0)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: EndlessRewardEnv(5)] * 4), verbose=False)
    cfg = {
        "discount_factor": 0.8,
        "learning_rate": 1e-2,
        "batch_size": 32,
        "target_update_interval": 1,
        "polyak": 0.1,
    }
    agent, env = make_agent("dqn", env=env, cfg=cfg, memory_size=200)
    train(agent, env, 400)
    q_values = agent.q_network.act({"states": torch.ones(1, 1)}, role="q_network")[0]
    assert torch.allclose(q_values, torch.full((1, 2), 5.0), atol=0.3)


def test_a_q_network_with_the_wrong_width_is_a_clear_error():
    env = vector_env("CartPole-v1")
    q_network = QNetwork(env.observation_space, 1)  # one output for two actions
    agent = DQN(
        {"q_network": q_network},
        None,
        env.observation_space,
        env.action_space,
        "cpu",
        {"exploration": {"timesteps": 0}},
    )
    with pytest.raises(ValueError, match=r'"q_network" should output \(N, n_actions\) = \(N, 2\)'):
        agent.act(torch.zeros(2, 4), 0, 1)


def test_a_box_action_space_is_a_clear_error():
    env = vector_env("Pendulum-v1")
    policy = GaussianPolicy(env.observation_space, env.action_space)
    with pytest.raises(ValueError, match=r"DQN needs a Discrete action space, got Box"):
        DQN({"q_network": policy}, None, env.observation_space, env.action_space, "cpu")


def test_a_partial_exploration_dict_keeps_the_other_defaults():
    agent, _ = make_agent("ddqn", cfg={"exploration": {"final_epsilon": 0.1}})
    assert (agent.cfg.exploration.initial_epsilon, agent.cfg.exploration.timesteps) == (1.0, 1000)
    with pytest.raises(KeyError, match='did you mean "final_epsilon"'):
        make_agent("ddqn", cfg={"exploration": {"final_epsilom": 0.1}})
