"""RunningStandardScaler: statistics against numpy, normalisation, inverse, clipping, state_dict."""

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.resources.preprocessors.torch import RunningStandardScaler


def chan_update(mean, variance, count, batch):
    """The parallel-variance merge in numpy float64, with the unbiased (ddof=1) batch variance."""
    batch = np.asarray(batch, dtype=np.float64).reshape(-1, batch.shape[-1])
    batch_mean, batch_variance, batch_count = batch.mean(0), batch.var(0, ddof=1), len(batch)
    delta = batch_mean - mean
    total = count + batch_count
    new_variance = (
        variance * count + batch_variance * batch_count + delta**2 * count * batch_count / total
    ) / total
    return mean + delta * batch_count / total, new_variance, total


def test_buffers_start_at_mean_zero_variance_one_count_one():
    scaler = RunningStandardScaler(3, device="cpu")
    assert (
        scaler.running_mean.dtype
        == scaler.running_variance.dtype
        == scaler.current_count.dtype
        == torch.float64
    )
    assert scaler.running_mean.tolist() == [0.0, 0.0, 0.0]
    assert scaler.running_variance.tolist() == [1.0, 1.0, 1.0]
    assert scaler.current_count.shape == () and scaler.current_count.item() == 1.0
    assert set(scaler.state_dict()) == {"running_mean", "running_variance", "current_count"}


@pytest.mark.parametrize(
    ("size", "width"),
    [(4, 4), ((2, 3), 6), (gymnasium.spaces.Box(-1, 1, (2, 2)), 4), (gymnasium.spaces.Discrete(7), 1)],
)
def test_size_is_the_flat_row_width(size, width):
    assert RunningStandardScaler(size, device="cpu").running_mean.shape == (width,)


def test_training_statistics_match_the_parallel_formula_in_numpy():
    scaler = RunningStandardScaler(3, device="cpu")
    mean, variance, count = np.zeros(3), np.ones(3), 1.0
    generator = np.random.default_rng(0)
    for size in (5, 64, 2, 300):
        batch = generator.normal(loc=[1.0, -2.0, 10.0], scale=[0.5, 3.0, 0.1], size=(size, 3)).astype(
            np.float32
        )
        scaler(torch.from_numpy(batch), train=True)
        mean, variance, count = chan_update(mean, variance, count, batch)
        np.testing.assert_allclose(scaler.running_mean.numpy(), mean, rtol=1e-12)
        np.testing.assert_allclose(scaler.running_variance.numpy(), variance, rtol=1e-12)
        assert scaler.current_count.item() == count


def test_statistics_approach_the_data_mean_and_unbiased_batch_variance():
    """With many samples the pseudo-sample (0, 1) fades; batch variances are ddof=1, as in skrl and
    rl_games, so batches of 500 inflate the data variance by 500 / 499."""
    data = np.random.default_rng(1).normal(3.0, 2.0, size=(20_000, 2))
    scaler = RunningStandardScaler(2, device="cpu")
    for batch in np.split(data, 40):
        scaler(torch.from_numpy(batch), train=True)
    np.testing.assert_allclose(scaler.running_mean.numpy(), data.mean(0), rtol=2e-4)
    np.testing.assert_allclose(scaler.running_variance.numpy(), data.var(0) * 500 / 499, rtol=2e-4)


def test_three_dimensional_input_reduces_over_time_and_envs():
    batch = torch.randn(4, 5, 3)
    scaler, flat = RunningStandardScaler(3, device="cpu"), RunningStandardScaler(3, device="cpu")
    scaler(batch, train=True)
    flat(batch.reshape(20, 3), train=True)
    assert torch.equal(scaler.running_mean, flat.running_mean)
    assert torch.equal(scaler.running_variance, flat.running_variance)
    assert scaler.current_count.item() == 21.0


def test_a_single_sample_batch_adds_no_variance_instead_of_nan():
    scaler = RunningStandardScaler(2, device="cpu")
    scaler(torch.tensor([[2.0, 4.0]]), train=True)
    # count 1 (mean 0, var 1) + one sample: mean = x / 2, var = (1 + x^2 / 2) / 2
    assert scaler.running_mean.tolist() == [1.0, 2.0]
    assert scaler.running_variance.tolist() == [1.5, 4.5]


def test_forward_standardises_and_clips_as_float32():
    scaler = RunningStandardScaler(2, epsilon=0.0, clip_threshold=3.0, device="cpu")
    scaler.running_mean.copy_(torch.tensor([1.0, -1.0], dtype=torch.float64))
    scaler.running_variance.copy_(torch.tensor([4.0, 0.25], dtype=torch.float64))
    x = torch.tensor([[5.0, -1.5], [1.0, 10.0]], dtype=torch.float64)
    out = scaler(x)
    assert out.dtype == torch.float32
    assert out.tolist() == [[2.0, -1.0], [0.0, 3.0]]


def test_epsilon_is_added_to_the_standard_deviation():
    scaler = RunningStandardScaler(1, epsilon=1.0, device="cpu")
    scaler.running_variance.fill_(9.0)
    assert scaler(torch.tensor([[8.0]])).item() == 2.0


def test_inverse_undoes_standardisation_within_the_clip_range():
    scaler = RunningStandardScaler(3, epsilon=0.0, device="cpu")
    scaler(torch.randn(100, 3) * 4 + 2, train=True)
    x = torch.randn(10, 3) * 4 + 2
    torch.testing.assert_close(scaler(scaler(x), inverse=True), x, rtol=1e-5, atol=1e-5)


def test_inverse_clamps_its_input():
    scaler = RunningStandardScaler(1, clip_threshold=2.0, device="cpu")
    scaler.running_mean.fill_(1.0)
    scaler.running_variance.fill_(9.0)
    assert scaler(torch.tensor([[5.0], [-1.0]]), inverse=True).tolist() == [[7.0], [-2.0]]


def test_attributes_can_be_changed_after_construction():
    scaler = RunningStandardScaler(1, device="cpu")
    scaler.running_variance.fill_(4.0)
    assert scaler(torch.tensor([[2.0]])).item() == pytest.approx(1.0)
    scaler.epsilon = 2.0
    scaler.clip_threshold = 0.25
    assert scaler(torch.tensor([[2.0]])).item() == 0.25
    scaler.clip_threshold = 5.0
    assert scaler(torch.tensor([[2.0]])).item() == 0.5


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.running_mean.fill_(1.0),
        lambda s: s.load_state_dict({**s.state_dict(), "running_mean": torch.ones(1, dtype=torch.float64)}),
        lambda s: setattr(s, "running_mean", torch.ones(1, dtype=torch.float64)),
        lambda s: setattr(s.running_mean, "data", torch.ones(1, dtype=torch.float64)),
    ],
)
def test_every_way_of_changing_the_statistics_reaches_forward(change):
    scaler = RunningStandardScaler(1, epsilon=0.0, device="cpu")
    assert scaler(torch.tensor([[3.0]])).item() == 3.0
    change(scaler)
    assert scaler(torch.tensor([[3.0]])).item() == 2.0


def test_state_dict_round_trip():
    scaler = RunningStandardScaler(2, device="cpu")
    scaler(torch.randn(50, 2), train=True)
    restored = RunningStandardScaler(2, device="cpu")
    restored.load_state_dict(scaler.state_dict())
    x = torch.randn(5, 2)
    assert torch.equal(restored(x), scaler(x))
    assert restored.current_count.item() == 51.0


def test_gradients_flow_only_when_asked():
    scaler = RunningStandardScaler(2, device="cpu")
    x = torch.randn(3, 2, requires_grad=True)
    assert not scaler(x).requires_grad
    scaler(x, no_grad=False).sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize(("epsilon", "clip"), [(-1e-8, 5.0), (1e-8, 0.0)])
def test_invalid_settings_are_refused(epsilon, clip):
    with pytest.raises(ValueError, match="must be"):
        RunningStandardScaler(2, epsilon=epsilon, clip_threshold=clip, device="cpu")
