"""`TabularMixin`: tabular policies (Q-learning, SARSA) whose table is a plain tensor attribute.

By convention the table is ``self.q_table``, shape (num_envs, num_observations, num_actions), and
`compute` returns ``(actions (N, 1) int64, outputs)``.

Differs from skrl 0.10: `save` honours its ``state_dict`` argument and writes atomically; `load`
maps tensors to ``self.device`` and never executes pickled code; `load_state_dict` accepts
sub-module keys (``net.0.weight``) next to table tensors; `table()` also finds a table under
another name when it is the model's only 3-D tensor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from rlblocks.models.torch.base import ActOutput, Inputs, read_state_dict
from rlblocks.utils.checkpoint import atomic_save


class TabularMixin:
    """Tabular model: `act` gives ``(actions (N, 1) int64, None, outputs)``."""

    def __init__(self, num_envs: int = 1, role: str = "") -> None:
        """Set ``self.num_envs``, the table's first dimension (``role`` is accepted and unused)."""
        self.num_envs = num_envs

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Choose actions from the table."""
        actions, outputs = self.compute(inputs, role)
        return actions, None, outputs

    def table(self) -> torch.Tensor:
        """The Q-table: ``self.q_table``, or the model's only 3-D tensor attribute.

        Raises:
            AttributeError: no such tensor, or several candidates.
        """
        tensors = self._tensor_attributes()
        if "q_table" in tensors:
            return tensors["q_table"]
        candidates = [name for name, tensor in tensors.items() if tensor.dim() == 3]
        if len(candidates) == 1:
            return tensors[candidates[0]]
        raise AttributeError(
            f"{type(self).__name__} has no table: name it self.q_table, shape (num_envs, num_observations, "
            f"num_actions) (3-D tensor attributes found: {candidates})"
        )

    def _tensor_attributes(self) -> dict[str, torch.Tensor]:
        return {
            name: value
            for name, value in sorted(vars(self).items())
            if torch.is_tensor(value) and not name.startswith("__")
        }

    def _get_tensor_names(self) -> list[str]:
        return list(self._tensor_attributes())

    def __repr__(self) -> str:
        lines = [
            f"  ({name}): Tensor(shape={list(t.shape)})" for name, t in self._tensor_attributes().items()
        ]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)" if lines else f"{type(self).__name__}()"

    def to(self, *args: Any, **kwargs: Any) -> TabularMixin:
        """Move parameters, buffers and table tensors; returns self."""
        torch.nn.Module.to(self, *args, **kwargs)
        for name, tensor in self._tensor_attributes().items():
            object.__setattr__(self, name, tensor.to(*args, **kwargs))
        return self

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The table tensors by attribute name, plus the module's parameters and buffers."""
        return {**self._tensor_attributes(), **torch.nn.Module.state_dict(self, *args, **kwargs)}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load table tensors (same shape and dtype) and module parameters.

        Raises:
            ValueError: a table tensor differs in shape or dtype, or (``strict``) a key is neither a
                table tensor nor a module parameter or buffer.
        """
        tables = self._tensor_attributes()
        module_keys = torch.nn.Module.state_dict(self).keys()
        if strict:
            for name in state_dict:
                if name not in tables and name not in module_keys:
                    raise ValueError(
                        f"{name} is not a tensor of {type(self).__name__} (tensors: {sorted(tables)}, "
                        f"parameters and buffers: {sorted(module_keys)})"
                    )
        for name, tensor in state_dict.items():
            if name not in tables:
                continue
            current = tables[name]
            if current.shape != tensor.shape or current.dtype != tensor.dtype:
                raise ValueError(
                    f"Tensor shape ({current.shape} vs {tensor.shape}) or dtype ({current.dtype} vs "
                    f"{tensor.dtype}) mismatch for {name!r}"
                )
            object.__setattr__(self, name, tensor.to(current.device))
        module_entries = {key: value for key, value in state_dict.items() if key not in tables}
        return torch.nn.Module.load_state_dict(self, module_entries, strict=strict, assign=assign)

    def save(self, path: str, state_dict: Mapping[str, Any] | None = None) -> None:
        """Save ``state_dict`` (default: this model's tables and parameters), atomically."""
        atomic_save(dict(self.state_dict() if state_dict is None else state_dict), path)

    def load(self, path: str) -> None:
        """Load a file written by `save` onto ``self.device`` (safe loading), then switch to eval mode.

        Raises:
            CheckpointError: missing, corrupted or untrusted file, or one that holds no state dict.
            ValueError: see `load_state_dict`.
        """
        self.load_state_dict(read_state_dict(path, self.device))
        self.eval()
