import torch

from rlblocks.agents.torch.episode_statistics import EpisodeStatistics


def flags(*values):
    return torch.tensor(values, dtype=torch.bool).view(-1, 1)


def test_finishing_one_env_resets_only_that_env():
    """skrl 0.10 bug #1: cumulative (4, 4, 4) became (0, 5, 0) when env 2 ended; here env 0 keeps counting."""
    statistics = EpisodeStatistics()
    ones = torch.ones(3, 1)
    for _ in range(3):
        statistics.record(ones, flags(0, 0, 0), flags(0, 0, 0))
    statistics.record(ones, flags(0, 0, 1), flags(0, 0, 0))
    assert statistics.finished_returns == [4.0]
    assert statistics.finished_lengths == [4]
    statistics.record(ones, flags(1, 0, 0), flags(0, 1, 0))
    assert statistics.finished_returns == [4.0, 5.0, 5.0]
    assert statistics.finished_lengths == [4, 5, 5]


def test_recent_mean_return_survives_summaries_and_keeps_the_last_hundred():
    statistics = EpisodeStatistics(window=2)
    assert statistics.recent_mean_return is None
    for reward in (1.0, 2.0, 4.0):
        statistics.record(torch.tensor([[reward]]), flags(1), flags(0))
    summary = statistics.pop_summary()
    assert summary["returns"] == [1.0, 2.0, 4.0]
    assert summary["mean_reward"] == [7.0 / 3.0]
    assert statistics.recent_mean_return == 3.0
    assert statistics.pop_summary() == {"returns": [], "lengths": [], "mean_reward": []}


def test_mean_reward_counts_each_step_once_across_summaries():
    """Two envs, rewards 1 and 3 per step; env 0 ends at step 3, summaries after steps 2 and 4."""
    statistics = EpisodeStatistics()
    rewards = torch.tensor([[1.0], [3.0]])
    statistics.record(rewards, flags(0, 0), flags(0, 0))
    statistics.record(rewards, flags(0, 0), flags(0, 0))
    assert statistics.pop_summary()["mean_reward"] == [2.0]
    statistics.record(rewards, flags(1, 0), flags(0, 0))
    statistics.record(rewards, flags(0, 0), flags(0, 0))
    summary = statistics.pop_summary()
    assert summary["returns"] == [3.0] and summary["lengths"] == [3]
    assert summary["mean_reward"] == [2.0]
    assert statistics.any_ended is False
