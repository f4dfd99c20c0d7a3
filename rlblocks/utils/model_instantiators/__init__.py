"""Model instantiators: ready-made MLP models from a few arguments, for scripts, configs and the CLI.

Each factory (``gaussian_model``, ``multivariate_gaussian_model``, ``deterministic_model``,
``categorical_model``, ``shared_model``) keeps skrl 0.10's signature, turns its arguments into a
typed spec (`MLPSpec` for the network, `GaussianSpec`, `DeterministicSpec` or `CategoricalSpec`
for the kind's settings; see `spec`) and builds the model from it: ``GaussianModel(observation_space,
action_space, device, spec)`` does the same from a spec directly.

Every model's ``net`` is an ``nn.Sequential`` with the Linear layers at even indices::

    net.0 Linear(inputs, h0), net.1 act0, net.2 Linear(h0, h1), net.3 act1, net.4 Linear(h1, outputs)
    [net.5 output activation]

so a state dict reads like stable-baselines3's and rl_games' MLPs. The network input is chosen by
``input_shape`` (a `Shape`): the states, the taken actions, both concatenated, or a constant 1.
Discrete and MultiDiscrete parts of the states (index columns, as the env wrappers give them, also
inside a Dict or Tuple) are one-hot encoded first, so the input width is ``num_observations``.

Differs from skrl 0.10 (bug #25):
- ``categorical_model`` defaults to logits (``unnormalized_log_prob=True``), so its defaults act;
  asking for probabilities without a softmax output raises at construction;
- ``output_scale`` multiplies the output (skrl ignores it);
- ``Shape.ONE`` as input works (a constant (N, 1) input of ones: a state-independent output);
- ``shared_model`` raises on an unknown role (skrl returns None) and works with one hidden layer;
- ``gaussian_model`` exposes ``reduction``, and both Gaussian models ``initial_log_std``;
- ``hiddens=[]`` gives a linear model; a list of different hidden activations of the wrong length
  raises (skrl silently reuses the last one);
  "softmax" normalises over the last dimension (skrl's ``nn.Softmax()`` guesses the dimension);
- Discrete parts of Dict/Tuple observations are one-hot encoded (skrl feeds their index to a
  network sized for the one-hot width, which fails).

rlblocks extensions: ``rnn=`` (a recurrent layer, `RNNSpec`) and ``encoder=`` (a convolutional
encoder of uint8 image states, `EncoderSpec`: ``{"type": "nature_cnn"}`` or a list of conv layers).
"""

from rlblocks.models.torch.networks import ACTIVATIONS, activation, hidden_activations, mlp
from rlblocks.utils.model_instantiators.encoders import EncoderSpec
from rlblocks.utils.model_instantiators.factories import (
    categorical_model,
    deterministic_model,
    gaussian_model,
    multivariate_gaussian_model,
)
from rlblocks.utils.model_instantiators.models import (
    CategoricalModel,
    DeterministicModel,
    GaussianModel,
    MultivariateGaussianModel,
)
from rlblocks.utils.model_instantiators.shapes import NetworkInput, Shape, ShapeLike, as_shape, num_units
from rlblocks.utils.model_instantiators.shared import SHARED_VALUE, GaussianDeterministicModel, shared_model
from rlblocks.utils.model_instantiators.spec import (
    CATEGORICAL,
    DETERMINISTIC,
    GAUSSIAN,
    CategoricalSpec,
    DeterministicSpec,
    GaussianSpec,
    MLPSpec,
    ModelSpec,
)

__all__ = [
    "ACTIVATIONS",
    "CATEGORICAL",
    "DETERMINISTIC",
    "GAUSSIAN",
    "SHARED_VALUE",
    "CategoricalModel",
    "CategoricalSpec",
    "DeterministicModel",
    "DeterministicSpec",
    "EncoderSpec",
    "GaussianDeterministicModel",
    "GaussianModel",
    "GaussianSpec",
    "MLPSpec",
    "ModelSpec",
    "MultivariateGaussianModel",
    "NetworkInput",
    "Shape",
    "ShapeLike",
    "activation",
    "as_shape",
    "categorical_model",
    "deterministic_model",
    "gaussian_model",
    "hidden_activations",
    "mlp",
    "multivariate_gaussian_model",
    "num_units",
    "shared_model",
]
