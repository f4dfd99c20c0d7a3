import pytest
import torch

from rlblocks.agents.torch.episode_statistics import EpisodeStatistics
from tests.helpers.syncs import count_host_syncs


def flags(*values):
    return torch.tensor(values, dtype=torch.bool).view(-1, 1)


def test_finishing_one_env_resets_only_that_env():
    """skrl 0.10 bug #1: cumulative (4, 4, 4) became (0, 5, 0) when env 2 ended; here env 0 keeps counting."""
    statistics = EpisodeStatistics()
    ones = torch.ones(3, 1)
    for _ in range(3):
        statistics.record(ones, flags(0, 0, 0), flags(0, 0, 0))
    statistics.record(ones, flags(0, 0, 1), flags(0, 0, 0))
    assert statistics.recent_returns == [4.0]
    statistics.record(ones, flags(1, 0, 0), flags(0, 1, 0))
    assert statistics.recent_returns == [4.0, 5.0, 5.0]
    summary = statistics.pop_summary()
    assert summary["count"] == 3
    assert (summary["min_return"], summary["max_return"]) == (4.0, 5.0)
    assert summary["mean_return"] == pytest.approx(14 / 3)
    assert (summary["min_length"], summary["max_length"], summary["mean_length"]) == (
        4,
        5,
        pytest.approx(14 / 3),
    )


def test_recent_mean_return_survives_summaries_and_keeps_the_last_window():
    statistics = EpisodeStatistics(window=2)
    assert statistics.recent_mean_return is None
    for reward in (1.0, 2.0, 4.0):
        statistics.record(torch.tensor([[reward]]), flags(1), flags(0))
    summary = statistics.pop_summary()
    assert (summary["count"], summary["min_return"], summary["max_return"]) == (3, 1.0, 4.0)
    assert summary["mean_reward"] == pytest.approx(7.0 / 3.0)
    assert statistics.recent_returns == [2.0, 4.0]
    assert statistics.recent_mean_return == 3.0
    empty = statistics.pop_summary()
    assert empty["count"] == 0 and empty["mean_return"] is None and empty["mean_reward"] is None


def test_more_envs_ending_at_once_than_the_window_keep_the_last_in_env_order():
    statistics = EpisodeStatistics(window=3)
    statistics.record(
        torch.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]]), flags(1, 1, 0, 1, 1), flags(0, 0, 0, 0, 0)
    )
    assert statistics.recent_returns == [2.0, 4.0, 5.0]
    statistics.record(torch.full((5, 1), 10.0), flags(0, 0, 1, 0, 0), flags(0, 0, 0, 0, 0))
    assert statistics.recent_returns == [4.0, 5.0, 13.0]


def test_mean_reward_counts_each_step_once_across_summaries():
    """Two envs, rewards 1 and 3 per step; env 0 ends at step 3, summaries after steps 2 and 4."""
    statistics = EpisodeStatistics()
    rewards = torch.tensor([[1.0], [3.0]])
    statistics.record(rewards, flags(0, 0), flags(0, 0))
    statistics.record(rewards, flags(0, 0), flags(0, 0))
    assert statistics.pop_summary()["mean_reward"] == 2.0
    statistics.record(rewards, flags(1, 0), flags(0, 0))
    statistics.record(rewards, flags(0, 0), flags(0, 0))
    summary = statistics.pop_summary()
    assert (summary["count"], summary["mean_return"], summary["mean_length"]) == (1, 3.0, 3.0)
    assert summary["mean_reward"] == 2.0


def test_a_false_hint_skips_the_end_of_episode_work_and_recording_never_syncs():
    statistics = EpisodeStatistics()
    rewards = torch.ones(4, 1)
    with count_host_syncs() as counts:
        for step in range(10):
            ended = flags(step == 4, 0, 0, 0)
            statistics.record(rewards, ended, flags(0, 0, 0, 0), any_ended=None if step == 4 else False)
    assert counts["total"] == 0
    assert statistics.recent_returns == [5.0]


def test_restored_returns_come_before_new_ones():
    statistics = EpisodeStatistics(window=3)
    statistics.restore_recent_returns([1.0, 2.0])
    assert statistics.recent_mean_return == 1.5
    statistics.record(torch.tensor([[7.0]]), flags(1), flags(0))
    assert statistics.recent_returns == [1.0, 2.0, 7.0]


def test_another_number_of_envs_starts_fresh_episodes_and_keeps_the_finished_ones():
    """Trained on 3 envs, then evaluated on 1: no shape error, finished returns kept."""
    statistics = EpisodeStatistics()
    statistics.record(torch.ones(3, 1), flags(1, 0, 0), flags(0, 0, 0))
    statistics.record(torch.ones(3, 1), flags(0, 0, 0), flags(0, 0, 0))  # envs 1, 2 half-way
    statistics.record(torch.full((1, 1), 5.0), flags(0), flags(0))
    statistics.record(torch.full((1, 1), 5.0), flags(1), flags(0))
    assert statistics.recent_returns == [1.0, 10.0]
