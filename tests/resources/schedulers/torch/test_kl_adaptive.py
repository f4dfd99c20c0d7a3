"""KLAdaptiveRL: exact learning-rate sequences, bounds, every param group, state_dict round trip."""

import pytest
import torch

from rlblocks.resources.schedulers.torch import KLAdaptiveLR, KLAdaptiveRL
from rlblocks.utils.checkpoint import atomic_save, safe_load


def make_optimizer(*lrs):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


def test_construction_works_on_torch_2_and_leaves_the_lr():
    """skrl 0.10 passes verbose positionally and fails with TypeError here (bug #24)."""
    optimizer = make_optimizer(1e-3)
    scheduler = KLAdaptiveRL(optimizer, 0.008, 1e-6, 1e-2, 2, 1.5, -1, False)
    assert lrs(optimizer) == [1e-3]
    assert scheduler.get_last_lr() == [1e-3]
    assert KLAdaptiveLR is KLAdaptiveRL


def test_lr_sequence_follows_the_kl_band():
    """Band [0.004, 0.016]: above divides by 1.5, below multiplies by 1.5, inside keeps."""
    optimizer = make_optimizer(1e-3)
    scheduler = KLAdaptiveRL(optimizer)
    expected = []
    lr = 1e-3
    for kl in (0.02, 0.02, 0.01, 0.001, torch.tensor(0.0039), 0.016, 0.004, 0.0161):
        if kl > 0.016:
            lr = lr / 1.5
        elif kl < 0.004:
            lr = lr * 1.5
        expected.append(lr)
        scheduler.step(kl)
        assert lrs(optimizer) == [lr]
    assert expected == pytest.approx(
        [1e-3 / 1.5, 1e-3 / 2.25, 1e-3 / 2.25, 1e-3 / 1.5, 1e-3, 1e-3, 1e-3, 1e-3 / 1.5]
    )
    assert scheduler.get_last_lr() == [expected[-1]]


def test_lr_stays_within_min_and_max():
    optimizer = make_optimizer(1e-3)
    scheduler = KLAdaptiveRL(optimizer, min_lr=5e-4, max_lr=2e-3)
    for _ in range(3):
        scheduler.step(1.0)
    assert lrs(optimizer) == [5e-4]
    for _ in range(5):
        scheduler.step(0.0)
    assert lrs(optimizer) == [2e-3]


def test_every_param_group_is_adapted():
    optimizer = make_optimizer(1e-3, 3e-3)
    scheduler = KLAdaptiveRL(optimizer)
    scheduler.step(0.1)
    assert lrs(optimizer) == [1e-3 / 1.5, 3e-3 / 1.5]


def test_step_without_kl_keeps_the_lr():
    optimizer = make_optimizer(1e-3)
    KLAdaptiveRL(optimizer).step()
    assert lrs(optimizer) == [1e-3]


def test_state_dict_round_trip_resumes_the_schedule(tmp_path):
    optimizer = make_optimizer(1e-3)
    scheduler = KLAdaptiveRL(optimizer, kl_threshold=0.01, lr_factor=2.0)
    scheduler.step(1.0)
    atomic_save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "ckpt.pt"
    )

    checkpoint = safe_load(tmp_path / "ckpt.pt")
    resumed_optimizer = make_optimizer(1e-3)
    resumed = KLAdaptiveRL(resumed_optimizer)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["scheduler"])
    assert (resumed.kl_threshold, resumed.lr_factor, resumed.last_epoch) == (0.01, 2.0, 0)
    for kl in (1.0, 0.0, 0.0):
        scheduler.step(kl)
        resumed.step(kl)
        assert lrs(resumed_optimizer) == lrs(optimizer)
    assert lrs(optimizer) == [1e-3]


def test_verbose_logs_changes(caplog):
    scheduler = KLAdaptiveRL(make_optimizer(1e-3), verbose=True)
    scheduler.step(1.0)
    assert "param group 0 lr 1.000000e-03 -> 6.666667e-04" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kl_threshold": 0.0}, "kl_threshold must be > 0, got 0.0"),
        ({"min_lr": 1e-2, "max_lr": 1e-3}, "need 0 <= min_lr <= max_lr"),
        ({"lr_factor": 0.5}, "kl_factor and lr_factor must be >= 1"),
    ],
)
def test_invalid_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KLAdaptiveRL(make_optimizer(1e-3), **kwargs)
