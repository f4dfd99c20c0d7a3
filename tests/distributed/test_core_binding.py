"""Binding local ranks to cores (`rlblocks.config.core_binding`): the slices, the modes, the fit rule."""

import pytest

from rlblocks.config import core_binding
from rlblocks.config.core_binding import bind_local_rank_to_cores, cores_of_local_rank


@pytest.mark.parametrize(
    ("cores", "rank", "ranks", "threads", "expected"),
    [
        ([0, 1], 0, 2, 1, [0]),
        ([1, 0], 1, 2, 1, [1]),
        ([0, 1, 2, 3], 1, 2, 1, [2, 3]),
        ([4, 5, 6, 7, 8], 1, 2, 2, [6, 7]),  # 5 cores, 2 ranks: shares of 2, core 8 left out
        ([0, 1, 2, 3], 0, 2, 4, []),  # 4 threads per rank do not fit in 2 cores
        ([0], 0, 2, 1, []),  # fewer cores than ranks
        ([0, 1, 2, 3], 0, 1, 1, []),  # one rank on the machine: nothing to separate
    ],
)
def test_each_local_rank_gets_its_own_equal_slice_of_the_cores_or_none(cores, rank, ranks, threads, expected):
    assert cores_of_local_rank(cores, rank, ranks, threads) == expected


@pytest.fixture
def affinity(monkeypatch):
    """The process's cores, faked: 4 of them; records what `os.sched_setaffinity` is given."""
    calls = []
    monkeypatch.setattr(core_binding.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(
        core_binding.os, "sched_setaffinity", lambda pid, cores: calls.append(list(cores)), raising=False
    )
    monkeypatch.setattr(core_binding.torch, "get_num_threads", lambda: 1)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    return calls


def test_auto_binds_the_local_rank_to_its_slice(affinity, monkeypatch):
    monkeypatch.delenv("RLBLOCKS_BIND_CORES", raising=False)
    assert bind_local_rank_to_cores() == [2, 3]
    assert affinity == [[2, 3]]


def test_0_never_binds(affinity, monkeypatch):
    monkeypatch.setenv("RLBLOCKS_BIND_CORES", "0")
    assert bind_local_rank_to_cores() == []
    assert affinity == []


def test_an_unknown_mode_is_refused_naming_the_value_and_the_choices(affinity, monkeypatch):
    monkeypatch.setenv("RLBLOCKS_BIND_CORES", "yes")
    with pytest.raises(ValueError, match=r"RLBLOCKS_BIND_CORES='yes'.*auto, 0"):
        bind_local_rank_to_cores()
    assert affinity == []
