"""`ProbabilityCheck`: a policy declared to output probabilities must output probabilities.

With ``unnormalized_log_prob=False`` a categorical policy's `compute` returns probabilities (rows
normalised by the mixin). Negative, NaN or infinite values, or a row summing to 0, would give NaN
log-probabilities, and the sampler would then always pick the invalid action. skrl 0.10 raises from
``torch.distributions``' argument validation, which reads the result on the host at every call;
here the check runs on the device into a `HostFlag`: on CPU it is read at once (no wait), on CUDA
the copy is read at a later call, so the error comes a step or two late, never a stall.
"""

from __future__ import annotations

import torch

from rlblocks.utils.host_flag import HostFlag


class ProbabilityCheck:
    """Validates (N, n) probability outputs; raises ValueError naming the model, the role and a row."""

    def __init__(self) -> None:
        self._flags: dict[torch.device, HostFlag] = {}
        self._last_bad: torch.Tensor | None = None

    def __call__(self, probabilities: torch.Tensor, model: object, role: str) -> None:
        """Check one output (any number of leading axes, categories last).

        Raises:
            ValueError: this output (CPU) or an earlier one (CUDA) held values that are not probabilities.
        """
        device = probabilities.device
        flag = self._flags.get(device)
        if flag is None:
            flag = self._flags[device] = HostFlag(device, True)
        if not flag.read():  # CUDA: an earlier output was invalid
            self._raise(model, role, self._last_bad)
        detached = probabilities.detach()
        sums = detached.sum(dim=-1)
        is_valid = torch.logical_and((detached >= 0).all(dim=-1), torch.isfinite(sums) & (sums > 0))
        torch.all(is_valid, out=flag.tensor)
        if device.type == "cpu":
            if not flag.read():
                self._raise(model, role, detached)
        else:
            self._last_bad = detached
            flag.publish()

    def _raise(self, model: object, role: str, probabilities: torch.Tensor | None) -> None:
        example = ""
        if probabilities is not None:
            rows = probabilities.reshape(-1, probabilities.shape[-1]).cpu()
            sums = rows.sum(dim=-1)
            bad = ~((rows >= 0).all(dim=-1) & torch.isfinite(sums) & (sums > 0))
            if bad.any():
                index = int(torch.where(bad)[0][0])
                example = f" (row {index}: {rows[index].tolist()})"
        for flag in self._flags.values():
            flag.set(True)
        raise ValueError(
            f"{type(model).__name__} (role {role!r}) was built with unnormalized_log_prob=False, so "
            "compute() must return probabilities, but it returned negative, NaN or infinite values or a "
            f"row summing to 0{example}. Return probabilities (e.g. torch.softmax(logits, dim=-1)), or "
            "build the model with unnormalized_log_prob=True and return logits."
        )
