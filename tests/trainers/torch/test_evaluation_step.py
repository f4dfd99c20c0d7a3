"""`evaluation_step`: a hand-written evaluation carries recurrent states and resets them at episode ends.

Three envs play episodes of different lengths (some ended by termination, some by truncation) in
one batched evaluation; every episode's actions must equal those of the same observations played
alone on one env from fresh zero states. The learning tests' `deterministic_return` uses it too.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.sac import SAC
from rlblocks.agents.torch.td3 import TD3
from rlblocks.trainers.torch.evaluation import evaluation_step
from rlblocks.utils.model_instantiators import Shape, deterministic_model, gaussian_model
from tests.learning.evaluation import deterministic_return

OBSERVATIONS = gym.spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
ACTIONS = gym.spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
EPISODES = {
    0: [(2, "terminated"), (5, "truncated"), (3, "terminated")],
    1: [(4, "truncated"), (1, "terminated"), (4, "both")],
    2: [(7, "terminated"), (3, "truncated")],
}
"""env -> its episodes (length, how the last step ends), played back to back."""


def recurrent_agent(name, kind):
    torch.manual_seed(0)
    rnn = {"type": kind, "hidden_size": 8, "num_layers": 2 if kind == "gru" else 1, "sequence_length": 4}
    layers = {"hiddens": [8], "hidden_activation": "tanh", "rnn": rnn}
    if name == "td3":
        actor = deterministic_model(OBSERVATIONS, ACTIONS, "cpu", output_activation=None, **layers)
        return TD3({"policy": actor}, None, OBSERVATIONS, ACTIONS, "cpu", {"experiment": NO_LOGS})
    policy = gaussian_model(OBSERVATIONS, ACTIONS, "cpu", output_activation=None, **layers)
    if name == "sac":
        return SAC({"policy": policy}, None, OBSERVATIONS, ACTIONS, "cpu", {"experiment": NO_LOGS})
    return PPO({"policy": policy}, None, OBSERVATIONS, ACTIONS, "cpu", {"experiment": NO_LOGS})


def observations_of(env, episode, length):
    """The (length, 3) observations of one episode (the same whichever way it is played)."""
    generator = torch.Generator().manual_seed(100 * env + episode)
    return torch.randn(length, 3, generator=generator)


def batched_evaluation(agent):
    """Play `EPISODES` on 3 envs at once; returns (env, episode) -> its (length, 2) actions."""
    agent.set_running_mode("eval")
    position = {env: [0, 0] for env in EPISODES}  # env -> [episode, step]
    actions_of = {(env, e): [] for env, episodes in EPISODES.items() for e in range(len(episodes))}
    while any(episode < len(EPISODES[env]) for env, (episode, _) in position.items()):
        rows, terminated, truncated = [], [], []
        for env in sorted(EPISODES):
            episode, step = position[env]
            if episode >= len(EPISODES[env]):  # this env is done: any observation, never ends
                rows.append(torch.zeros(3))
                terminated.append(False)
                truncated.append(False)
                continue
            length, end = EPISODES[env][episode]
            rows.append(observations_of(env, episode, length)[step])
            is_last = step == length - 1
            terminated.append(is_last and end in ("terminated", "both"))
            truncated.append(is_last and end in ("truncated", "both"))
        flags = [torch.tensor(values).view(-1, 1) for values in (terminated, truncated)]

        def step_env(actions, flags=flags):
            return torch.zeros(3, 3), torch.zeros(3, 1), *flags, {}

        result = evaluation_step(agent, torch.stack(rows), step_env)
        for env in sorted(EPISODES):
            episode, step = position[env]
            if episode >= len(EPISODES[env]):
                continue
            actions_of[(env, episode)].append(result.actions[env])
            position[env] = [episode + 1, 0] if step == EPISODES[env][episode][0] - 1 else [episode, step + 1]
    return {key: torch.stack(actions) for key, actions in actions_of.items()}


def single_env_replay(agent, env, episode, length):
    """The episode's observations played alone on one env from fresh zero states, no episode end."""
    agent.set_running_mode("eval")  # zero states
    actions = []
    never = torch.zeros(1, 1, dtype=torch.bool)
    for observation in observations_of(env, episode, length):
        step = evaluation_step(
            agent, observation.view(1, -1), lambda _: (torch.zeros(1, 3), torch.zeros(1, 1), never, never, {})
        )
        actions.append(step.actions[0])
    return torch.stack(actions)


@pytest.mark.parametrize(("name", "kind"), [("ppo", "lstm"), ("ppo", "rnn"), ("sac", "gru"), ("td3", "lstm")])
def test_batched_evaluation_equals_single_env_replays_from_zero_states(name, kind):
    agent = recurrent_agent(name, kind)
    agent.init()
    played = batched_evaluation(agent)
    for (env, episode), actions in played.items():
        length = EPISODES[env][episode][0]
        assert actions.shape == (length, 2)
        replayed = single_env_replay(agent, env, episode, length)
        torch.testing.assert_close(actions, replayed, atol=1e-6, rtol=0, msg=f"env {env} episode {episode}")
    # the states are carried: from the second step on, zero input states give other actions
    agent.set_running_mode("eval")
    observations = observations_of(2, 0, 7)
    never = torch.zeros(7, 1, dtype=torch.bool)
    fresh = evaluation_step(
        agent, observations, lambda _: (observations, torch.zeros(7, 1), never, never, {})
    )
    assert torch.allclose(fresh.actions[0], played[(2, 0)][0], atol=1e-6)
    assert not torch.allclose(fresh.actions[1:], played[(2, 0)][1:], atol=1e-3)


def test_deterministic_return_resets_a_recurrent_policy_between_episodes():
    """The learning tests' helper: each CartPole episode is played as if alone, from zero states."""
    torch.manual_seed(0)
    env = gym.make("CartPole-v1")
    rnn = {"type": "lstm", "hidden_size": 8, "num_layers": 1, "sequence_length": 4}
    from rlblocks.utils.model_instantiators import categorical_model

    policy = categorical_model(env.observation_space, env.action_space, "cpu", hiddens=[8], rnn=rnn)
    value = deterministic_model(
        env.observation_space,
        env.action_space,
        "cpu",
        hiddens=[8],
        output_shape=Shape.ONE,
        output_activation=None,
    )
    agent = PPO(
        {"policy": policy, "value": value},
        None,
        env.observation_space,
        env.action_space,
        "cpu",
        {"experiment": NO_LOGS},
    )
    agent.init()
    expected = []
    for episode in range(2):
        observation, _ = env.reset(seed=1000 + episode)
        hidden = [torch.zeros(1, 1, 8), torch.zeros(1, 1, 8)]
        total, done = 0.0, False
        with torch.no_grad():
            while not done:
                states = torch.as_tensor(observation, dtype=torch.float32).view(1, -1)
                logits, outputs = policy.compute({"states": states, "rnn": hidden}, role="policy")
                hidden = outputs["rnn"]
                observation, reward, terminated, truncated, _ = env.step(int(logits.argmax()))
                total += float(reward)
                done = terminated or truncated
        expected.append(total)
    env.close()
    assert deterministic_return(agent, "CartPole-v1", episodes=2) == pytest.approx(np.mean(expected))
