"""MLP building blocks: activations by name and the ``nn.Sequential`` the model instantiators use.

`mlp` puts the Linear layers at even indices, each hidden one followed by its activation::

    0 Linear(inputs, h0), 1 act0, 2 Linear(h0, h1), 3 act1, 4 Linear(h1, outputs)[, 5 output activation]

so a model's state dict reads ``net.0.weight``, ``net.2.weight``, ... like stable-baselines3's and
rl_games' MLPs; checkpoints and `rlblocks.utils.migration` rely on these names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from rlblocks.utils.suggest import did_you_mean

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
"""Activation names (case-insensitive; "" or None means none). Differs from skrl 0.10: "softmax"
normalises over the last dimension (skrl's ``nn.Softmax()`` guesses the dimension)."""


def check_activation(name: str | None) -> str:
    """The `ACTIVATIONS` key for ``name`` ("" for "" or None).

    Raises:
        ValueError: an unknown name; the message names it, the nearest and every accepted name.
    """
    if not name:
        return ""
    key = str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation function: {name!r}{did_you_mean(key, ACTIVATIONS)}; "
            f"supported: {', '.join(ACTIVATIONS)}"
        )
    return key


def activation(name: str | None) -> nn.Module:
    """The activation module called ``name`` (``nn.Identity`` for "" or None).

    Raises:
        ValueError: an unknown name (see `check_activation`).
    """
    key = check_activation(name)
    return ACTIVATIONS[key]() if key else nn.Identity()


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
    """Linear layers at even indices, each hidden one followed by its activation (see the module docstring).

    With ``output_units=None`` the stack ends after the last hidden activation (a shared trunk).

    Raises:
        ValueError: an unknown activation or mismatched hidden activations.
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
