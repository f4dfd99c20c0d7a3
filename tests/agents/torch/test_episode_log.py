"""episodes.csv: one line per finished training episode (return, length, env steps, wall time)."""

from __future__ import annotations

import csv

import torch
from gymnasium.vector import SyncVectorEnv

from rlblocks.agents.torch.base import Agent
from rlblocks.agents.torch.episode_log import EpisodeLog
from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.envs import make_counter_env


class PushingAgent(Agent):
    """Always takes action 1: the counter env then rewards 1 per step, so return = length."""

    def act(self, states, timestep, timesteps):
        return torch.ones(states.shape[0], 1, dtype=torch.int64), None, {}


def rows(path):
    with open(path, newline="") as stream:
        return [row for row in csv.DictReader(stream)]


def test_every_finished_training_episode_is_one_line_with_its_env_steps(tmp_path):
    env = wrap_env(SyncVectorEnv([make_counter_env(3), make_counter_env(5)]), verbose=False)
    experiment = {"directory": str(tmp_path), "experiment_name": "run", "write_interval": 10}
    agent = PushingAgent({}, None, env.observation_space, env.action_space, "cpu", {"experiment": experiment})
    SequentialTrainer(env, agent, cfg={"timesteps": 30, "headless": True, "progress": "none"}).train()
    lines = rows(tmp_path / "run" / "episodes.csv")
    # env 0 ends at trainer steps 3, 6, ..., 30 and env 1 at 5, 10, ..., 30; 2 env steps per step
    expected = sorted(
        [(3, 2 * step) for step in range(3, 31, 3)] + [(5, 2 * step) for step in range(5, 31, 5)]
    )
    got = sorted((int(line["length"]), int(line["env_steps"])) for line in lines)
    assert got == sorted(expected, key=lambda pair: pair)
    assert all(float(line["return"]) == int(line["length"]) for line in lines)
    times = [float(line["time_s"]) for line in sorted(lines, key=lambda line: int(line["env_steps"]))]
    assert times == sorted(times) and times[0] >= 0


def test_evaluation_episodes_are_not_logged(tmp_path):
    env = wrap_env(SyncVectorEnv([make_counter_env(3)]), verbose=False)
    experiment = {"directory": str(tmp_path), "experiment_name": "run", "write_interval": 5}
    agent = PushingAgent({}, None, env.observation_space, env.action_space, "cpu", {"experiment": experiment})
    SequentialTrainer(env, agent, cfg={"timesteps": 12, "headless": True, "progress": "none"}).eval()
    assert not (tmp_path / "run" / "episodes.csv").exists()


def test_more_episodes_than_the_capacity_leaves_a_comment_with_the_count(tmp_path):
    log = EpisodeLog(str(tmp_path / "episodes.csv"), capacity=2)
    ended = torch.tensor([True, False, True, True])
    log.add(ended, torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1, 2, 3, 4]), env_steps=8)
    assert log.write(env_steps=8) == 2
    text = (tmp_path / "episodes.csv").read_text().splitlines()
    assert text[0] == "return,length,env_steps,time_s"
    assert [line.split(",")[:3] for line in text[1:3]] == [["1", "1", "8"], ["3", "3", "8"]]
    assert text[3] == "# 1 more episodes ended before this write and are not listed"
