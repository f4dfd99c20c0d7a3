"""PyTorch models: the `Model` base class and the mixins that give it an `act` method."""

from rlblocks.models.torch.base import Model
from rlblocks.models.torch.categorical import CategoricalMixin
from rlblocks.models.torch.deterministic import DeterministicMixin
from rlblocks.models.torch.gaussian import GaussianMixin
from rlblocks.models.torch.multicategorical import MultiCategoricalMixin
from rlblocks.models.torch.multivariate_gaussian import MultivariateGaussianMixin
from rlblocks.models.torch.tabular import TabularMixin

__all__ = [
    "CategoricalMixin",
    "DeterministicMixin",
    "GaussianMixin",
    "Model",
    "MultiCategoricalMixin",
    "MultivariateGaussianMixin",
    "TabularMixin",
]
