"""Model instantiators: ready-made MLP models from a few arguments, for scripts, configs and the CLI.

Every model's ``net`` is an ``nn.Sequential`` with the Linear layers at even indices::

    net.0 Linear(inputs, h0), net.1 act0, net.2 Linear(h0, h1), net.3 act1, net.4 Linear(h1, outputs)
    [net.5 output activation]

so a state dict reads like stable-baselines3's and rl_games' MLPs. The network input is chosen by
``input_shape`` (a `Shape`): the states, the taken actions, both concatenated, or a constant 1.

Differs from skrl 0.10 (bug #25):
- ``categorical_model`` defaults to logits (``unnormalized_log_prob=True``), so its defaults act;
  asking for probabilities without a softmax output raises at construction;
- ``output_scale`` multiplies the output (skrl ignores it);
- ``Shape.ONE`` as input works (a constant (N, 1) input of ones: a state-independent output);
- ``shared_model`` raises on an unknown role (skrl returns None) and works with one hidden layer;
- ``gaussian_model`` exposes ``reduction``, and both Gaussian models ``initial_log_std``;
- ``hiddens=[]`` gives a linear model; a list of different hidden activations of the wrong length
  raises (skrl silently reuses the last one);
  "softmax" normalises over the last dimension (skrl's ``nn.Softmax()`` guesses the dimension).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from rlblocks.models.torch import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultivariateGaussianMixin,
)
from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.utils import spaces
from rlblocks.utils.suggest import did_you_mean

__all__ = [
    "Shape",
    "categorical_model",
    "deterministic_model",
    "gaussian_model",
    "multivariate_gaussian_model",
    "shared_model",
]


class Shape(enum.Enum):
    """Symbolic sizes of a network's input or output (a plain int is a number of units)."""

    ONE = 1
    STATES = 0
    OBSERVATIONS = 0  # an alias of STATES
    ACTIONS = -1
    STATES_ACTIONS = -2


ShapeLike = Shape | int | str
"""A `Shape`, a number of units, or a `Shape` name ("STATES", "one", ...) as written in YAML."""

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "selu": nn.SELU,
    "softmax": lambda: nn.Softmax(dim=-1),
}
"""Activation names accepted by the instantiators ("" or None means none)."""


# ------------------------------------------------------------------ helpers
def as_shape(value: ShapeLike) -> Shape | int:
    """A `Shape` or a positive number of units from a `Shape`, an int or a `Shape` name.

    Raises:
        ValueError: an unknown name or a non-positive number of units.
    """
    if isinstance(value, Shape):
        return value
    if isinstance(value, str):
        name = value.strip().upper().removeprefix("SHAPE.")
        if name not in Shape.__members__:
            raise ValueError(
                f"unknown shape {value!r}{did_you_mean(name, Shape.__members__)}; "
                f"use one of {', '.join(Shape.__members__)} or a number of units"
            )
        return Shape[name]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"a shape must be a Shape, a Shape name or a positive number of units, got {value!r}"
        )
    return value


def num_units(model: Model, shape: ShapeLike) -> int:
    """The number of units a shape stands for in ``model`` (see `Shape`)."""
    shape = as_shape(shape)
    if not isinstance(shape, Shape):
        return shape
    return {
        Shape.ONE: 1,
        Shape.STATES: model.num_observations,
        Shape.ACTIONS: model.num_actions,
        Shape.STATES_ACTIONS: (model.num_observations or 0) + (model.num_actions or 0),
    }[shape]


def activation(name: str | None) -> nn.Module:
    """The activation module called ``name`` (``nn.Identity`` for "" or None).

    Raises:
        ValueError: an unknown name.
    """
    if not name:
        return nn.Identity()
    key = str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation function: {name!r}{did_you_mean(key, ACTIVATIONS)}; "
            f"supported: {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[key]()


def hidden_activations(hiddens: Sequence[int], hidden_activation: str | Sequence[str] | None) -> list[str]:
    """One activation name per hidden layer.

    A single name, or a list repeating one name (like the default ``["relu", "relu"]``), applies to
    every layer, however many there are.

    Raises:
        ValueError: a list of different names whose length differs from ``hiddens``'.
    """
    if hidden_activation is None or isinstance(hidden_activation, str):
        return [hidden_activation or ""] * len(hiddens)
    names = list(hidden_activation)
    if len(set(names)) == 1:
        return names[:1] * len(hiddens)
    if len(names) != len(hiddens):
        raise ValueError(
            f"hidden_activation has {len(names)} entries for {len(hiddens)} hidden layers {list(hiddens)}; "
            "give one activation per layer (or a single name for all)"
        )
    return names


def mlp(
    input_units: int,
    hiddens: Sequence[int],
    hidden_activation: str | Sequence[str] | None,
    output_units: int | None,
    output_activation: str | None = None,
) -> nn.Sequential:
    """Linear layers at even indices, each hidden one followed by its activation.

    With ``output_units=None`` the stack ends after the last hidden activation (a shared trunk).
    """
    layers: list[nn.Module] = []
    width = input_units
    for size, name in zip(hiddens, hidden_activations(hiddens, hidden_activation)):
        layers += [nn.Linear(width, int(size)), activation(name)]
        width = int(size)
    if output_units is not None:
        layers.append(nn.Linear(width, output_units))
        if output_activation:
            layers.append(activation(output_activation))
    return nn.Sequential(*layers)


def network_input(model: Model, inputs: Inputs, input_shape: Shape | int) -> torch.Tensor:
    """The (N, k) tensor a network reads: states (one-hot for a Discrete space), actions, both, or ones."""
    if input_shape is Shape.ACTIONS:
        return inputs["taken_actions"]
    states = model._states(inputs)
    if spaces.is_discrete(model.observation_space):
        states = nn.functional.one_hot(states.long().reshape(-1), model.num_observations).float()
    if input_shape is Shape.ONE:
        return torch.ones(states.shape[0], 1, device=states.device, dtype=torch.float32)
    if input_shape is Shape.STATES_ACTIONS:
        return torch.cat([states, inputs["taken_actions"]], dim=-1)
    return states


def _check_input_shape(value: ShapeLike) -> Shape:
    shape = as_shape(value)
    if not isinstance(shape, Shape):
        raise ValueError(
            f"input_shape must be a Shape (STATES, ACTIONS, STATES_ACTIONS or ONE), got {value!r}: "
            "the input width follows from the spaces"
        )
    return shape


class _MLPModel(Model):
    """What every instantiated model shares: ``net``, its input selection and output scale."""

    def _build(
        self,
        input_shape: ShapeLike,
        hiddens: Sequence[int],
        hidden_activation: str | Sequence[str] | None,
        output_shape: ShapeLike,
        output_activation: str | None,
        output_scale: float,
    ) -> None:
        self.input_shape = _check_input_shape(input_shape)
        self.output_units = num_units(self, output_shape)
        self.output_scale = float(output_scale)
        self.net = mlp(
            num_units(self, self.input_shape),
            hiddens,
            hidden_activation,
            self.output_units,
            output_activation,
        )

    def _output(self, inputs: Inputs) -> torch.Tensor:
        output = self.net(network_input(self, inputs, self.input_shape))
        return output if self.output_scale == 1.0 else output * self.output_scale


class GaussianModel(GaussianMixin, _MLPModel):
    """A diagonal Gaussian policy: mean from ``net``, a state-independent ``log_std_parameter``."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, **kwargs: Any) -> None:
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(
            self,
            clip_actions=kwargs["clip_actions"],
            clip_log_std=kwargs["clip_log_std"],
            min_log_std=kwargs["min_log_std"],
            max_log_std=kwargs["max_log_std"],
            reduction=kwargs["reduction"],
        )
        _build_gaussian(self, kwargs)

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
        """``(mean (N, A), log_std (A,), {})``."""
        return self._output(inputs), self.log_std_parameter, {}


class MultivariateGaussianModel(MultivariateGaussianMixin, _MLPModel):
    """A Gaussian policy with a joint log-prob; same network as `GaussianModel`."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, **kwargs: Any) -> None:
        Model.__init__(self, observation_space, action_space, device)
        MultivariateGaussianMixin.__init__(
            self,
            clip_actions=kwargs["clip_actions"],
            clip_log_std=kwargs["clip_log_std"],
            min_log_std=kwargs["min_log_std"],
            max_log_std=kwargs["max_log_std"],
        )
        _build_gaussian(self, kwargs)

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
        """``(mean (N, A), log_std (A,), {})``."""
        return self._output(inputs), self.log_std_parameter, {}


def _build_gaussian(model: _MLPModel, kwargs: Mapping[str, Any]) -> None:
    model._build(
        kwargs["input_shape"],
        kwargs["hiddens"],
        kwargs["hidden_activation"],
        kwargs["output_shape"],
        kwargs["output_activation"],
        kwargs["output_scale"],
    )
    model.log_std_parameter = nn.Parameter(
        torch.full((model.output_units,), float(kwargs["initial_log_std"]))
    )


class DeterministicModel(DeterministicMixin, _MLPModel):
    """A value, critic, Q-network or deterministic actor: ``net``'s (scaled) output."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, **kwargs: Any) -> None:
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=kwargs.pop("clip_actions"))
        self._build(**kwargs)

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        """``(output (N, units), {})``."""
        return self._output(inputs), {}


class CategoricalModel(CategoricalMixin, _MLPModel):
    """A categorical policy: ``net`` gives logits (or probabilities)."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, **kwargs: Any) -> None:
        Model.__init__(self, observation_space, action_space, device)
        unnormalized_log_prob = kwargs.pop("unnormalized_log_prob")
        if not unnormalized_log_prob and str(kwargs["output_activation"] or "").lower() != "softmax":
            raise ValueError(
                "categorical_model(unnormalized_log_prob=False) reads the network's outputs as "
                f"probabilities, but output_activation={kwargs['output_activation']!r} does not make "
                'them so; pass output_activation="softmax", or keep unnormalized_log_prob=True (logits)'
            )
        CategoricalMixin.__init__(self, unnormalized_log_prob=unnormalized_log_prob)
        self._build(output_scale=1.0, **kwargs)

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        """``(logits or probabilities (N, n), {})``."""
        return self._output(inputs), {}


# ---------------------------------------------------------------- factories
def gaussian_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    clip_actions: bool = False,
    clip_log_std: bool = True,
    min_log_std: float = -20,
    max_log_std: float = 2,
    input_shape: ShapeLike = Shape.STATES,
    hiddens: Sequence[int] = [256, 256],
    hidden_activation: str | Sequence[str] = ["relu", "relu"],
    output_shape: ShapeLike = Shape.ACTIONS,
    output_activation: str | None = "tanh",
    output_scale: float = 1.0,
    reduction: str = "sum",
    initial_log_std: float = 0.0,
) -> GaussianModel:
    """A Gaussian policy: mean = ``output_scale · net(input)``, log-std a learned (A,) parameter.

    Args:
        observation_space: observation space (or its size).
        action_space: action space (or its size).
        device: where the model computes ("cuda:0" if available, else "cpu").
        clip_actions: clamp sampled actions to the Box action space's bounds.
        clip_log_std: clamp the log-std to [min_log_std, max_log_std].
        min_log_std: lower log-std bound.
        max_log_std: upper log-std bound.
        input_shape: what the network reads: STATES, ACTIONS, STATES_ACTIONS or ONE.
        hiddens: hidden layer sizes ([] for a linear model).
        hidden_activation: one activation per hidden layer, or one name for all.
        output_shape: output units (a `Shape` or an int).
        output_activation: activation of the output layer (None for none).
        output_scale: factor applied to the output, e.g. the action bound after a tanh.
        reduction: how the per-dimension log-prob is reduced: "sum", "mean", "prod" or "none".
        initial_log_std: initial value of every log-std entry.

    Raises:
        ValueError: an unknown activation, shape or reduction, or mismatched hidden activations.
    """
    return GaussianModel(observation_space, action_space, device, **_arguments(locals()))


def multivariate_gaussian_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    clip_actions: bool = False,
    clip_log_std: bool = True,
    min_log_std: float = -20,
    max_log_std: float = 2,
    input_shape: ShapeLike = Shape.STATES,
    hiddens: Sequence[int] = [256, 256],
    hidden_activation: str | Sequence[str] = ["relu", "relu"],
    output_shape: ShapeLike = Shape.ACTIONS,
    output_activation: str | None = "tanh",
    output_scale: float = 1.0,
    initial_log_std: float = 0.0,
) -> MultivariateGaussianModel:
    """A Gaussian policy whose log-prob is the joint one; arguments as in `gaussian_model`."""
    return MultivariateGaussianModel(observation_space, action_space, device, **_arguments(locals()))


def deterministic_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    clip_actions: bool = False,
    input_shape: ShapeLike = Shape.STATES,
    hiddens: Sequence[int] = [256, 256],
    hidden_activation: str | Sequence[str] = ["relu", "relu"],
    output_shape: ShapeLike = Shape.ACTIONS,
    output_activation: str | None = "tanh",
    output_scale: float = 1.0,
) -> DeterministicModel:
    """A deterministic model (actor, value, critic, Q-network): ``output_scale · net(input)``.

    Arguments as in `gaussian_model`; a value or critic uses ``output_shape=Shape.ONE`` and
    ``output_activation=None``, a critic ``input_shape=Shape.STATES_ACTIONS``.
    """
    return DeterministicModel(observation_space, action_space, device, **_arguments(locals()))


def categorical_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    unnormalized_log_prob: bool = True,
    input_shape: ShapeLike = Shape.STATES,
    hiddens: Sequence[int] = [256, 256],
    hidden_activation: str | Sequence[str] = ["relu", "relu"],
    output_shape: ShapeLike = Shape.ACTIONS,
    output_activation: str | None = None,
) -> CategoricalModel:
    """A categorical policy over a Discrete action space: ``net`` gives logits.

    Args:
        observation_space: observation space (or its size).
        action_space: action space (or its size).
        device: where the model computes.
        unnormalized_log_prob: the network gives logits (True) or probabilities (False, which
            needs ``output_activation="softmax"``).
        input_shape: what the network reads (see `gaussian_model`).
        hiddens: hidden layer sizes.
        hidden_activation: one activation per hidden layer, or one name for all.
        output_shape: output units (one per action).
        output_activation: activation of the output layer.

    Raises:
        ValueError: probabilities asked for without a softmax output, or an argument error as in
            `gaussian_model`.
    """
    return CategoricalModel(observation_space, action_space, device, **_arguments(locals()))


def _arguments(local_variables: Mapping[str, Any]) -> dict[str, Any]:
    """A factory's keyword arguments minus the spaces and device."""
    skipped = ("observation_space", "action_space", "device")
    return {name: value for name, value in local_variables.items() if name not in skipped}


# ------------------------------------------------------------- shared model
GAUSSIAN_PARAMETERS = {
    "clip_actions": False,
    "clip_log_std": True,
    "min_log_std": -20,
    "max_log_std": 2,
    "reduction": "sum",
    "initial_log_std": 0.0,
    "input_shape": Shape.STATES,
    "hiddens": [256, 256],
    "hidden_activation": ["relu", "relu"],
    "output_shape": Shape.ACTIONS,
    "output_activation": "tanh",
    "output_scale": 1.0,
}
DETERMINISTIC_PARAMETERS = {
    "clip_actions": False,
    "input_shape": Shape.STATES,
    "hiddens": [256, 256],
    "hidden_activation": ["relu", "relu"],
    "output_shape": Shape.ONE,
    "output_activation": None,
    "output_scale": 1.0,
}


class GaussianDeterministicModel(GaussianMixin, DeterministicMixin, Model):
    """A Gaussian policy and a deterministic value sharing one trunk (``net``), with two heads.

    ``act(inputs, role)`` dispatches on the role: ``roles[0]`` is the policy (``mean_net`` and
    ``log_std_parameter``), ``roles[1]`` the value (``value_net``).
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any,
        roles: Sequence[str],
        parameters: Sequence[Mapping[str, Any]],
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        policy = _merge_parameters("policy", GAUSSIAN_PARAMETERS, parameters[0])
        value = _merge_parameters("value", DETERMINISTIC_PARAMETERS, parameters[1])
        self.policy_role, self.value_role = roles[0], roles[1]
        GaussianMixin.__init__(
            self,
            clip_actions=policy["clip_actions"],
            clip_log_std=policy["clip_log_std"],
            min_log_std=policy["min_log_std"],
            max_log_std=policy["max_log_std"],
            reduction=policy["reduction"],
            role=self.policy_role,
        )
        DeterministicMixin.__init__(self, clip_actions=value["clip_actions"], role=self.value_role)
        if list(policy["hiddens"]) != list(value["hiddens"]):
            raise ValueError(
                f"shared_model: the two roles share one trunk, so their hiddens must be equal; got "
                f"{list(policy['hiddens'])} and {list(value['hiddens'])}"
            )
        if not policy["hiddens"]:
            raise ValueError("shared_model needs at least one hidden layer to share, got hiddens=[]")
        self.input_shape = _check_input_shape(policy["input_shape"])
        width = int(policy["hiddens"][-1])
        self.net = mlp(
            num_units(self, self.input_shape), policy["hiddens"], policy["hidden_activation"], None
        )
        self.mean_net = mlp(
            width, [], None, num_units(self, policy["output_shape"]), policy["output_activation"]
        )
        self.value_net = mlp(
            width, [], None, num_units(self, value["output_shape"]), value["output_activation"]
        )
        self.log_std_parameter = nn.Parameter(
            torch.full((num_units(self, policy["output_shape"]),), float(policy["initial_log_std"]))
        )
        self.policy_scale = float(policy["output_scale"])
        self.value_scale = float(value["output_scale"])

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """The policy's `act` for ``roles[0]``, the value's for ``roles[1]``.

        Raises:
            ValueError: any other role.
        """
        if role == self.policy_role:
            return GaussianMixin.act(self, inputs, role)
        if role == self.value_role:
            return DeterministicMixin.act(self, inputs, role)
        raise ValueError(
            f"shared_model has the roles {[self.policy_role, self.value_role]}, got role={role!r}"
            f"{did_you_mean(role, [self.policy_role, self.value_role])}; pass one of them to act()"
        )

    def compute(self, inputs: Inputs, role: str = "") -> tuple[Any, ...]:
        """Policy: ``(mean, log_std, {})``; value: ``(value (N, 1), {})``."""
        features = self.net(network_input(self, inputs, self.input_shape))
        if role == self.policy_role:
            return self.mean_net(features) * self.policy_scale, self.log_std_parameter, {}
        return self.value_net(features) * self.value_scale, {}


def _merge_parameters(name: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(
            f"shared_model: unknown {name} parameter {unknown[0]!r}{did_you_mean(unknown[0], defaults)}; "
            f"valid: {', '.join(defaults)}"
        )
    return {**defaults, **given}


def shared_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    structure: str = "",
    roles: Sequence[str] = [],
    parameters: Sequence[Mapping[str, Any]] = [],
) -> GaussianDeterministicModel:
    """A Gaussian policy and a deterministic value sharing one MLP trunk (e.g. for PPO).

    Args:
        observation_space: observation space (or its size).
        action_space: action space (or its size).
        device: where the model computes.
        structure: ignored (skrl 0.10 accepts it; the structure is always Gaussian + Deterministic).
        roles: the policy's role and the value's role, e.g. ``["policy", "value"]``.
        parameters: two dicts of `gaussian_model` / `deterministic_model` arguments; the trunk
            is built from the first one's ``input_shape``, ``hiddens`` and ``hidden_activation``.

    Raises:
        ValueError: not two roles or two parameter dicts, different ``hiddens``, or an unknown
            parameter.
    """
    if len(roles) != 2 or len(parameters) != 2:
        raise ValueError(
            f"shared_model needs two roles and two parameter dicts (policy first, then value); got "
            f"roles={list(roles)} and {len(parameters)} parameter dicts"
        )
    return GaussianDeterministicModel(observation_space, action_space, device, roles, parameters)
