"""`Model`: the base class of every function approximator (policies, values, critics, Q-tables).

A concrete model mixes in one or more mixins (which supply `act`) and implements `compute`::

    class Policy(GaussianMixin, Model):
        def __init__(self, observation_space, action_space, device=None):
            Model.__init__(self, observation_space, action_space, device)
            GaussianMixin.__init__(self, clip_actions=True, role="policy")
            ...

Differs from skrl 0.10 (see docs/differences.md): `random_act` honours every Box dimension's
bounds; `init_parameters` with a matrix-only initialiser (orthogonal_, xavier_*, ...) touches
only tensors it can; `init_weights`/`init_biases` reach every Linear however nested; `save` is
atomic and `load` never executes pickled code; `update_parameters` checks that both models have
the same parameters and also copies the state dict's buffers; `migrate` reads files safely, maps by
structure and names, and leaves the model unchanged when it fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from rlblocks import logger
from rlblocks.utils import spaces
from rlblocks.utils.checkpoint import CheckpointError, atomic_save, safe_load
from rlblocks.utils.load_errors import shorten
from rlblocks.utils.suggest import did_you_mean

Inputs = Mapping[str, Any]
"""Model inputs: "states" (N, num_observations), optionally "taken_actions", "rnn", "terminated"."""

ActOutput = tuple[torch.Tensor, "torch.Tensor | None", dict[str, Any]]
"""What `act` returns: (actions or values, log-prob or None, extra outputs)."""

_INITIALISER_DIMS = {
    "orthogonal_": (2, None),
    "xavier_uniform_": (2, None),
    "xavier_normal_": (2, None),
    "kaiming_uniform_": (2, None),
    "kaiming_normal_": (2, None),
    "sparse_": (2, 2),
    "eye_": (2, 2),
    "dirac_": (3, 5),
}
"""(fewest, most) dimensions of the tensors some initialisers accept; others are left untouched."""


class UnsupportedSpaceError(ValueError, NotImplementedError):
    """An operation does not support the given space (a ValueError; NotImplementedError for skrl code)."""


class Model(nn.Module):
    """Base class of all models.

    Attributes:
        device: where the model's computations run ("cuda:0" if available, else "cpu", by default).
            The module is moved there by the agent, not here.
        observation_space, action_space: the constructor arguments, as given.
        num_observations, num_actions: sizes of those spaces (one-hot width for Discrete).
    """

    def __init__(
        self,
        observation_space: spaces.SpaceLike,
        action_space: spaces.SpaceLike,
        device: str | torch.device | None = None,
    ) -> None:
        """Store the spaces and the device.

        Args:
            observation_space: observation space or shape.
            action_space: action space or shape.
            device: "cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu".

        Raises:
            ValueError: a space is of an unsupported type.
        """
        super().__init__()
        if device is None:
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.observation_space = observation_space
        self.action_space = action_space
        self.num_observations = None if observation_space is None else self._get_space_size(observation_space)
        self.num_actions = None if action_space is None else self._get_space_size(action_space)

    # ------------------------------------------------------------------ spaces
    def _get_space_size(self, space: spaces.SpaceLike, number_of_elements: bool = True) -> int:
        """Number of elements of a space (see `rlblocks.utils.spaces.compute_space_size`).

        Raises:
            ValueError: the space is not supported.
        """
        return spaces.compute_space_size(space, number_of_elements)

    def tensor_to_space(self, tensor: torch.Tensor, space: spaces.SpaceLike, start: int = 0) -> Any:
        """Map a flat (N, k) tensor onto a space: a tensor, or a dict/tuple for Dict/Tuple spaces.

        Raises:
            ValueError: the space is not supported.
        """
        return spaces.tensor_to_space(tensor, space, start)

    def random_act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Uniformly random actions for the batch in ``inputs["states"]``: ``(actions, None, {})``.

        Box actions are (N, num_actions) float32, each dimension within its own bounds; Discrete
        actions are (N, 1) int64; MultiDiscrete (N, components) int64.

        Raises:
            UnsupportedSpaceError: the action space is an int or shape (it has no bounds).
        """
        states = self._states(inputs)
        batch_size = states.shape[0] if states.dim() > 1 else 1
        try:
            actions = spaces.sample_space(self.action_space, batch_size, self.device)
        except ValueError as error:
            raise UnsupportedSpaceError(str(error)) from None
        return actions, None, {}

    # ------------------------------------------------------------ initialise
    def init_parameters(self, method_name: str = "normal_", *args: Any, **kwargs: Any) -> None:
        """Initialise every parameter with ``torch.nn.init.<method_name>(tensor, *args, **kwargs)``.

        Initialisers defined only for matrices (orthogonal_, xavier_*, kaiming_*, sparse_, eye_;
        dirac_ for 3- to 5-D) skip the tensors they cannot take (biases, log-std vectors), which
        keep their values.

        Raises:
            ValueError: ``method_name`` is not an in-place initialiser of ``torch.nn.init``.
        """
        initialise = _initialiser(method_name)
        fewest, most = _INITIALISER_DIMS.get(method_name, (0, None))
        with torch.no_grad():
            for parameter in self.parameters():
                if parameter.dim() >= fewest and (most is None or parameter.dim() <= most):
                    initialise(parameter, *args, **kwargs)

    def init_weights(self, method_name: str = "orthogonal_", *args: Any, **kwargs: Any) -> None:
        """Initialise the weight of every ``nn.Linear`` in the model, however deeply nested.

        Raises:
            ValueError: ``method_name`` is not an in-place initialiser of ``torch.nn.init``.
        """
        initialise = _initialiser(method_name)
        with torch.no_grad():
            for layer in self._linear_layers():
                initialise(layer.weight, *args, **kwargs)

    def init_biases(self, method_name: str = "constant_", *args: Any, **kwargs: Any) -> None:
        """Initialise the bias of every ``nn.Linear`` that has one (``constant_`` defaults to 0).

        Raises:
            ValueError: ``method_name`` is not an in-place initialiser of ``torch.nn.init``.
        """
        initialise = _initialiser(method_name)
        if method_name == "constant_" and not args and "val" not in kwargs:
            kwargs = {**kwargs, "val": 0.0}
        with torch.no_grad():
            for layer in self._linear_layers():
                if layer.bias is not None:
                    initialise(layer.bias, *args, **kwargs)

    def _linear_layers(self) -> list[nn.Linear]:
        return [module for module in self.modules() if isinstance(module, nn.Linear)]

    # --------------------------------------------------------------- compute
    def get_specification(self) -> dict[str, Any]:
        """Advanced specification read by agents, e.g. ``{"rnn": {"sizes": [(1, 4, 64)]}}``; ``{}`` here."""
        return {}

    def forward(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Same as `act`: calling the module acts."""
        return self.act(inputs, role)

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Act for ``inputs``: ``(actions, log_prob or None, outputs)``; supplied by a mixin.

        Raises:
            NotImplementedError: no mixin supplies `act`, usually because the class lists
                `Model` before the mixin (write ``class Policy(GaussianMixin, Model)``).
        """
        logger.warning("Make sure to place Mixins before Model during model definition")
        raise NotImplementedError(
            f"{type(self).__name__}.act is not implemented: list the mixin before Model, e.g. "
            f"class {type(self).__name__}(GaussianMixin, Model), or override act()."
        )

    def compute(self, inputs: Inputs, role: str = "") -> Any:
        """The network's computation; what it returns depends on the mixin (see each mixin).

        Raises:
            NotImplementedError: the concrete model must implement it.
        """
        raise NotImplementedError(f"{type(self).__name__}.compute is not implemented; define compute().")

    def _states(self, inputs: Inputs) -> torch.Tensor:
        try:
            return inputs["states"]
        except (KeyError, TypeError):
            raise ValueError(
                f'model inputs must be a dict with a "states" tensor, got {_describe(inputs)}; '
                'call model.act({"states": states}, role=...).'
            ) from None

    def _checked_compute(self, inputs: Inputs, role: str, returns: tuple[str, ...] = ("output",)) -> Any:
        """`compute`, its failures and its result checked (host-side metadata only, no sync).

        Args:
            inputs: the model inputs.
            role: the role.
            returns: names of the tensors `compute` returns before its outputs dict, for the
                message when it returns something else, e.g. ``("mean", "log_std")``.

        Raises:
            TypeError: the states are not a tensor (a numpy array) or of a dtype the network
                cannot take; or `compute` did not return ``(*returns, dict)``.
            ValueError: the states have the wrong width for the observation space.
        """
        try:
            result = self.compute(inputs, role)
        except (RuntimeError, TypeError) as error:
            clearer = self._input_error(inputs, error)
            if clearer is None:
                raise
            raise clearer from error
        size = len(returns) + 1
        if not (isinstance(result, tuple) and len(result) == size and isinstance(result[-1], dict)):
            expected = f"({', '.join(returns)}, outputs dict)"
            raise TypeError(
                f"{type(self).__name__}.compute(role={role!r}) must return {expected}, got "
                f"{_describe(result)}; end it with e.g. `return {', '.join(returns)}, {{}}`."
            )
        return result

    def _input_error(self, inputs: Inputs, error: Exception) -> Exception | None:
        """A clearer error for a failed `compute`: states that are no tensor, of another dtype or width."""
        states = self._states(inputs)
        if not torch.is_tensor(states):
            return TypeError(
                f'"states" must be a torch.Tensor, got a {type(states).__module__}.{type(states).__name__}; '
                f"convert it with torch.as_tensor(states, dtype=torch.float32, device={str(self.device)!r}) "
                f"(compute failed with: {shorten(str(error), 200)})"
            )
        parameter = next(self.parameters(), None)
        if parameter is not None and parameter.is_floating_point() and states.dtype != parameter.dtype:
            return TypeError(
                f'"states" are {states.dtype} but {type(self).__name__}\'s parameters are {parameter.dtype}; '
                f"pass states.to({parameter.dtype}) (environments wrapped with rlblocks' wrap_env give "
                f"{parameter.dtype} states) (compute failed with: {shorten(str(error), 200)})"
            )
        if self.observation_space is None:
            return None
        if spaces.is_discrete(self.observation_space) or states.dim() == 0:
            return None
        # a one-hot (num_observations) or an index (flat_size) encoding of Discrete parts are both fine
        widths = sorted({self.num_observations, spaces.flat_size(self.observation_space)})
        if states.shape[-1] in widths:
            return None
        expected = " or ".join(f"(N, {width})" for width in widths)
        return ValueError(
            f'"states" should be {expected} for observation space {self.observation_space}, '
            f"got {tuple(states.shape)}; flatten observations to (num_envs, {widths[-1]}) "
            f"(compute failed with: {error})"
        )

    # ----------------------------------------------------------------- modes
    def set_mode(self, mode: str) -> None:
        """Switch to "train" (``self.train(True)``) or "eval" (``self.train(False)``) mode.

        Raises:
            ValueError: any other mode.
        """
        if mode == "train":
            self.train(True)
        elif mode == "eval":
            self.train(False)
        else:
            raise ValueError(
                f"Invalid mode {mode!r}. Use 'train' for training or 'eval' for evaluation"
                f"{did_you_mean(mode, ['train', 'eval'])}"
            )

    def freeze_parameters(self, freeze: bool = True) -> None:
        """Disable (``freeze=True``) or enable gradient computation for every parameter."""
        for parameter in self.parameters():
            parameter.requires_grad_(not freeze)

    def update_parameters(self, model: nn.Module, polyak: float = 1) -> None:
        """Move this model's parameters towards ``model``'s: θ ← (1 − polyak)·θ + polyak·θ_model.

        ``polyak=1`` is a hard copy. Buffers saved in the state dict (e.g. BatchNorm statistics)
        are copied outright; non-persistent ones (the clip bounds) are left alone.

        Raises:
            ValueError: the two models' parameters differ in number or shape, or polyak ∉ [0, 1].
        """
        if not 0.0 <= polyak <= 1.0:
            raise ValueError(f"polyak must be in [0, 1] (1 = hard copy), got {polyak}")
        targets, sources = list(self.parameters()), list(model.parameters())
        _check_same_tensors("parameters", targets, sources)
        target_buffers, source_buffers = _persistent_buffers(self), _persistent_buffers(model)
        _check_same_tensors("buffers", target_buffers, source_buffers)
        with torch.no_grad():
            if targets:
                if polyak == 1:
                    torch._foreach_copy_(targets, sources)
                else:
                    torch._foreach_lerp_(targets, sources, polyak)
            for target, source in zip(target_buffers, source_buffers):
                target.copy_(source)

    # ------------------------------------------------------------- save/load
    def save(self, path: str, state_dict: Mapping[str, Any] | None = None) -> None:
        """Save ``state_dict`` (default: this model's) to ``path``, atomically."""
        atomic_save(self.state_dict() if state_dict is None else state_dict, path)

    def load(self, path: str) -> None:
        """Load a state dict saved by `save` onto ``self.device``, then switch to eval mode.

        Raises:
            CheckpointError: missing, corrupted or untrusted file, or one that holds no state dict.
            RuntimeError: the state dict does not fit this model (missing or unexpected keys).
        """
        self.load_state_dict(read_state_dict(path, self.device))
        self.eval()

    def migrate(
        self,
        state_dict: Mapping[str, torch.Tensor] | None = None,
        path: str | None = None,
        name_map: Mapping[str, str] = {},
        auto_mapping: bool = True,
        verbose: bool = False,
    ) -> bool:
        """Load the parameters of a stable-baselines3, rl_games or plain checkpoint into this model.

        The source's format is recognised from its content: an SB3 ``.zip`` (its ``policy.pth``),
        an rl_games ``.pth`` (its ``"model"``; ``_orig_mod.`` prefixes of torch.compile are
        stripped), or a torch file/mapping holding a state dict or a dict of them (rlblocks and
        skrl checkpoints). Files are never unpickled beyond tensors, containers and numpy scalars.

        ``name_map`` entries are applied first, with a shape check. The other tensors are matched
        by layer structure, shapes and names together (see `rlblocks.utils.migration.matching`):
        this model takes the chain of source layers that lines up with its own and suits its role
        (policy, value, critic, target...; read from its mixins' roles, or from an optional
        ``migration_role`` attribute such as ``"critic_2"``). Source tensors it has no place for
        (optimizer state, normalisation statistics, other heads, target networks) are skipped.
        Only a genuinely ambiguous case warns, and then nothing is loaded for it.

        Normalisation statistics (rl_games ``running_mean_std``/``value_mean_std``, SB3
        ``VecNormalize``) are not model parameters: load them with
        `rlblocks.utils.migration.load_normalization`.

        Example:
            >>> policy.migrate(path="runs/Ant/nn/Ant.pth")  # rl_games, no name_map needed
            True

        Args:
            state_dict: the source tensors (exclusive with ``path``).
            path: an SB3 ``.zip``, an rl_games ``.pth``, or a torch file with a state dict.
            name_map: current parameter name -> source name, applied before auto-mapping.
            auto_mapping: match the remaining parameters by structure, shapes and names.
            verbose: log the current and source tensors and every match (``map:``/``auto:``).

        Returns:
            True when every tensor of the state dict received a source tensor of its shape (the
            model is then loaded and set to eval mode); otherwise False, after warnings saying
            why, and the model is left unchanged.

        Raises:
            ValueError: not exactly one of ``state_dict``/``path``; a ``name_map`` key that is not
                a tensor of this model; an unreadable, unsafe or unrecognised file.
        """
        from rlblocks.utils.migration import migrate_model  # the migration code is large; load on use

        return migrate_model(self, state_dict, path, name_map, auto_mapping, verbose)


def read_state_dict(path: str, device: torch.device) -> Mapping[str, Any]:
    """The state dict in a file written by `Model.save`, loaded safely onto ``device``.

    Raises:
        CheckpointError: missing, corrupted or untrusted file, or one that holds no state dict.
    """
    state_dict = safe_load(path, map_location=device)
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(
            f"{path!r} holds a {type(state_dict).__name__}, not a model state dict; "
            "for agent checkpoints use agent.load(path), "
            "for other libraries' files model.migrate(path=...)."
        )
    return state_dict


def _initialiser(method_name: str) -> Any:
    initialise = getattr(torch.nn.init, method_name, None)
    if not method_name.endswith("_") or not callable(initialise):
        names = [name for name in dir(torch.nn.init) if name.endswith("_") and not name.startswith("_")]
        raise ValueError(
            f"unknown initialiser {method_name!r}{did_you_mean(method_name, names)}; "
            f"use one of torch.nn.init's in-place methods: {', '.join(sorted(names))}"
        )
    return initialise


def _persistent_buffers(module: nn.Module) -> list[torch.Tensor]:
    """The buffers that ``module.state_dict()`` holds, in ``module.buffers()`` order."""
    return [
        buffer
        for submodule in module.modules()
        for name, buffer in submodule._buffers.items()
        if buffer is not None and name not in submodule._non_persistent_buffers_set
    ]


def _check_same_tensors(kind: str, targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources)):
        raise ValueError(
            f"update_parameters: the models' {kind} differ ({[tuple(t.shape) for t in targets]} vs "
            f"{[tuple(s.shape) for s in sources]}); the source must be a copy of the same architecture."
        )


def check_taken_actions(model: Any, taken_actions: Any, shape: tuple[int, ...], rows: bool = False) -> None:
    """Refuse ``taken_actions`` that do not hold one action per row (shape metadata only, no sync).

    Args:
        model: the model (named in the message).
        taken_actions: the tensor given as ``inputs["taken_actions"]``.
        shape: the shape the actions take, e.g. (N, 1) for a categorical policy.
        rows: the last dimension must also be ``shape[-1]`` (not just the number of elements).

    Raises:
        ValueError: not a tensor, or another number of elements than ``shape`` (one per action).
    """
    if (
        torch.is_tensor(taken_actions)
        and taken_actions.numel() == math.prod(shape)
        and (not rows or (taken_actions.dim() > 0 and taken_actions.shape[-1] == shape[-1]))
    ):
        return
    got = tuple(taken_actions.shape) if torch.is_tensor(taken_actions) else _describe(taken_actions)
    raise ValueError(
        f'"taken_actions" should be {tuple(shape)} for {type(model).__name__} (one row of '
        f"{shape[-1]} per state, action space {model.action_space}), got {got}; pass the actions the "
        "memory stored for these states"
    )


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"a dict with keys {shorten(str(sorted(value, key=str)), 200)}"
    if torch.is_tensor(value):
        return f"a bare tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(type(item).__name__ for item in value[:6])})"
    return f"a {type(value).__name__}"
