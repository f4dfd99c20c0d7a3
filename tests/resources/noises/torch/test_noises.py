"""Noises: shapes, Gaussian moments, the Ornstein-Uhlenbeck recurrence on fixed draws."""

import pytest
import torch

from rlblocks.resources.noises.torch import GaussianNoise, Noise, OrnsteinUhlenbeckNoise


def test_base_noise_sample_is_not_implemented():
    with pytest.raises(NotImplementedError, match="use GaussianNoise, OrnsteinUhlenbeckNoise"):
        Noise("cpu").sample((2,))


def test_gaussian_shapes_and_sample_like():
    noise = GaussianNoise(0.0, 1.0, device="cpu")
    assert noise.sample((4, 3)).shape == (4, 3)
    sample = noise.sample_like(torch.zeros(2, 5))
    assert sample.shape == (2, 5) and sample.dtype == torch.float32


def test_gaussian_moments_over_many_draws():
    samples = GaussianNoise(0.5, 2.0, device="cpu").sample((200_000,))
    # standard errors: 2 / sqrt(2e5) = 0.0045 for the mean, about 0.0032 for the std
    assert samples.mean().item() == pytest.approx(0.5, abs=0.02)
    assert samples.std().item() == pytest.approx(2.0, abs=0.015)


def test_gaussian_is_mean_plus_std_times_randn():
    torch.manual_seed(3)
    expected = 1.0 + 0.1 * torch.randn(3, 2)
    torch.manual_seed(3)
    torch.testing.assert_close(GaussianNoise(1.0, 0.1, device="cpu").sample((3, 2)), expected)


def test_zero_std_is_the_constant_mean_and_negative_std_is_refused():
    assert GaussianNoise(0.3, 0.0, device="cpu").sample((3,)).tolist() == pytest.approx([0.3] * 3)
    with pytest.raises(ValueError, match="std must be a finite number >= 0, got -1.0"):
        GaussianNoise(0.0, -1.0)


def test_ornstein_uhlenbeck_recurrence_on_fixed_draws():
    """state_k = state_{k-1} - theta * state_{k-1} + sigma * (mean + std * z_k);
    noise = base_scale * state_k."""
    theta, sigma, base_scale, mean, std = 0.15, 0.2, 0.5, 0.1, 2.0
    torch.manual_seed(7)
    draws = [torch.randn(2) for _ in range(3)]
    torch.manual_seed(7)
    noise = OrnsteinUhlenbeckNoise(theta, sigma, base_scale, mean, std, device="cpu")
    samples = [noise.sample((2,)) for _ in range(3)]

    state = torch.zeros(2)
    for draw, sample in zip(draws, samples):
        state = state - theta * state + sigma * (mean + std * draw)
        torch.testing.assert_close(sample, base_scale * state, rtol=1e-6, atol=1e-7)


def test_ornstein_uhlenbeck_first_values_by_hand():
    """With std 0 the kicks are the constant `mean` = 1, so the state goes
    0.2, 0.2 * 0.9 + 0.2 = 0.38, 0.38 * 0.9 + 0.2 = 0.542, and the noise is twice that."""
    noise = OrnsteinUhlenbeckNoise(theta=0.1, sigma=0.2, base_scale=2.0, mean=1.0, std=0.0, device="cpu")
    values = [noise.sample((1,)).item() for _ in range(3)]
    assert values == pytest.approx([0.4, 0.76, 1.084])


def test_ornstein_uhlenbeck_resets_on_a_new_size_and_on_reset():
    noise = OrnsteinUhlenbeckNoise(theta=0.1, sigma=0.2, base_scale=1.0, mean=1.0, std=0.0, device="cpu")
    noise.sample((2,))
    noise.sample((2,))
    assert noise.sample((3,)).tolist() == pytest.approx([0.2] * 3)
    assert noise.sample_like(torch.zeros(3)).tolist() == pytest.approx([0.38] * 3)
    noise.reset()
    assert noise.state == 0
    assert noise.sample((3,)).tolist() == pytest.approx([0.2] * 3)
