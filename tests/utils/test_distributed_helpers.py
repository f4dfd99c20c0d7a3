"""The one-process side of `rlblocks.config.torch` and `rlblocks.utils.distributed`: helpers, env vars."""

from datetime import timedelta

import pytest
import torch

from rlblocks.config import torch as config
from rlblocks.utils import distributed


def test_merge_moments_equals_the_concatenated_data():
    generator = torch.Generator().manual_seed(3)
    groups = [torch.randn(n, 4, generator=generator, dtype=torch.float64) * 3 + 1 for n in (5, 1, 0, 17)]
    counts = torch.tensor([float(g.shape[0]) for g in groups], dtype=torch.float64)
    means = torch.stack(
        [g.mean(0) if len(g) else torch.full((4,), float("nan"), dtype=torch.float64) for g in groups]
    )
    variances = torch.stack([g.var(0) if len(g) > 1 else torch.zeros(4, dtype=torch.float64) for g in groups])
    count, mean, variance = distributed.merge_moments(counts, means, variances)
    everything = torch.cat(groups)
    assert count == 23
    torch.testing.assert_close(mean, everything.mean(0), rtol=0, atol=1e-12)
    torch.testing.assert_close(variance, everything.var(0), rtol=0, atol=1e-12)


def test_merge_moments_of_one_row_has_zero_variance():
    count, mean, variance = distributed.merge_moments(
        torch.tensor([1.0, 0.0], dtype=torch.float64),
        torch.tensor([[2.0], [float("nan")]], dtype=torch.float64),
        torch.zeros(2, 1, dtype=torch.float64),
    )
    assert (count.item(), mean.item(), variance.item()) == (1.0, 2.0, 0.0)


def test_config_reads_torchrun_variables(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RLBLOCKS_DISTRIBUTED_TIMEOUT", "12.5")
    assert (config.local_rank, config.rank, config.world_size, config.is_distributed) == (1, 3, 4, True)
    assert config.timeout == timedelta(seconds=12.5)
    assert config.device == (torch.device("cuda:1") if torch.cuda.is_available() else torch.device("cpu"))


def test_config_without_torchrun_is_one_process(monkeypatch):
    for name in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "RLBLOCKS_DISTRIBUTED_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    assert (config.local_rank, config.rank, config.world_size, config.is_distributed) == (0, 0, 1, False)
    assert config.timeout == timedelta(seconds=300)
    assert config.init_process_group() is False  # no group is created for one process
    assert not torch.distributed.is_initialized()


@pytest.mark.parametrize(("name", "value"), [("WORLD_SIZE", "0"), ("RANK", "-1"), ("LOCAL_RANK", "two")])
def test_config_rejects_malformed_variables(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}={value!r}.*torchrun"):
        getattr(config, name.lower())


def test_config_rejects_a_bad_timeout(monkeypatch):
    monkeypatch.setenv("RLBLOCKS_DISTRIBUTED_TIMEOUT", "-3")
    with pytest.raises(ValueError, match="positive number of seconds"):
        _ = config.timeout


def test_each_rank_seeds_with_the_base_seed_plus_its_rank(monkeypatch):
    from rlblocks.utils.seeding import rank_seed, set_seed

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert rank_seed(10) == 11
    assert set_seed(10) == 11
    first = torch.rand(3)
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    assert set_seed(11) == 11
    assert torch.equal(torch.rand(3), first)
    assert rank_seed(10) == 10
