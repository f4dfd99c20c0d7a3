"""PyTorch exploration noises: the `Noise` base class, Gaussian and Ornstein-Uhlenbeck."""

from rlblocks.resources.noises.torch.base import Noise
from rlblocks.resources.noises.torch.gaussian import GaussianNoise
from rlblocks.resources.noises.torch.ornstein_uhlenbeck import OrnsteinUhlenbeckNoise

__all__ = ["GaussianNoise", "Noise", "OrnsteinUhlenbeckNoise"]
