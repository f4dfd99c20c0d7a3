"""Agent.migrate: an rl_games PPO checkpoint, statistics included, acts exactly like the source."""

import logging
import os

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlblocks.agents.torch.ppo import PPO
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from tests.helpers.models import GaussianPolicy, Value

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "checkpoints")


def pendulum_agent(cfg):
    observation_space = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)
    action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
    models = {
        "policy": GaussianPolicy(observation_space, action_space, activation=nn.ELU),
        "value": Value(observation_space, action_space, activation=nn.ELU),
    }
    cfg = {**cfg, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}
    return PPO(models, None, observation_space, action_space, "cpu", cfg)


def test_rl_games_checkpoint_migrates_with_its_normalisation():
    path = os.path.join(DATA, "rlg_ppo_continuous_pendulum.pth")
    truth = torch.load(os.path.join(DATA, "rlg_ppo_continuous_pendulum.groundtruth.pt"), weights_only=True)
    agent = pendulum_agent(
        {"state_preprocessor": RunningStandardScaler, "value_preprocessor": RunningStandardScaler}
    )
    assert agent.migrate(path) is True
    with torch.no_grad():
        for batch, outputs in ((truth["obs"], truth["outputs"]), (truth["obs_ood"], truth["outputs_ood"])):
            processed = agent._state_preprocessor(batch)
            torch.testing.assert_close(processed, outputs["obs_normalized"], atol=1e-5, rtol=0)
            _, _, policy_outputs = agent.policy.act({"states": processed}, role="policy")
            torch.testing.assert_close(policy_outputs["mean_actions"], outputs["mu"], atol=1e-5, rtol=0)
            torch.testing.assert_close(
                agent.policy.get_log_std(role="policy"), outputs["logstd"], atol=1e-6, rtol=0
            )
            # values reach ~90 here: float32 resolves 6e-6 there, so allow a relative 1e-6 as well
            torch.testing.assert_close(agent._values(batch), outputs["value"], atol=1e-5, rtol=1e-6)


def test_migrating_without_preprocessors_warns_that_actions_will_differ(caplog):
    path = os.path.join(DATA, "rlg_ppo_continuous_pendulum.pth")
    agent = pendulum_agent({})
    logging.getLogger("rlblocks").addHandler(caplog.handler)
    try:
        assert agent.migrate(path) is True
    finally:
        logging.getLogger("rlblocks").removeHandler(caplog.handler)
    assert 'set cfg["state_preprocessor"] = RunningStandardScaler' in caplog.text


def test_shared_policy_value_model_migrates_both_heads():
    from tests.helpers.models import SharedGaussianValue

    path = os.path.join(DATA, "rlg_ppo_continuous_pendulum.pth")
    truth = torch.load(os.path.join(DATA, "rlg_ppo_continuous_pendulum.groundtruth.pt"), weights_only=True)
    observation_space = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)
    action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
    shared = SharedGaussianValue(observation_space, action_space, hidden=64)
    shared.trunk = nn.Sequential(nn.Linear(3, 64), nn.ELU(), nn.Linear(64, 64), nn.ELU())
    cfg = {
        "state_preprocessor": RunningStandardScaler,
        "value_preprocessor": RunningStandardScaler,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = PPO({"policy": shared, "value": shared}, None, observation_space, action_space, "cpu", cfg)
    assert agent.migrate(path) is True
    with torch.no_grad():
        processed = agent._state_preprocessor(truth["obs"])
        mean = agent.policy.act({"states": processed}, role="policy")[2]["mean_actions"]
        torch.testing.assert_close(mean, truth["outputs"]["mu"], atol=1e-5, rtol=0)
        torch.testing.assert_close(
            agent._values(truth["obs"]), truth["outputs"]["value"], atol=1e-5, rtol=1e-6
        )
