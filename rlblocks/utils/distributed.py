"""Collectives for training on several processes (torchrun): parameters, gradients, scalars, statistics.

Every function here is a collective: every rank must call it, in the same order, with tensors
of the same shapes. Each one creates the process group on first use
(`rlblocks.config.torch.init_process_group`). Callers check `is_distributed()` first (or keep
its value), so a one-process run makes no call at all.

- `broadcast_modules`: rank 0's parameters and buffers to every rank (one bucket per dtype).
- `average_gradients`: the mean gradient over ranks, one flattened all-reduce per dtype (a scalar
  such as the loss can ride along in it).
- `mean_over_ranks`, `any_rank`: a scalar (or small tensor) averaged; a flag or-ed.
- `pooled_moments`: count, mean and unbiased variance of the data of all ranks concatenated, from
  each rank's own (Chan, Golub and LeVeque's parallel algorithm), identical on every rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.distributed as dist

from rlblocks.config import torch as config


def is_distributed() -> bool:
    """Whether this process is one of several ranks (``WORLD_SIZE`` > 1)."""
    return config.is_distributed


def world_size() -> int:
    """The number of ranks (1 without torchrun)."""
    return config.world_size


def rank() -> int:
    """This process's global rank (0 without torchrun)."""
    return config.rank


def _buckets(tensors: Iterable[torch.Tensor]) -> list[list[torch.Tensor]]:
    """``tensors`` grouped by (device, dtype), in their order; uninitialised lazy parameters left out."""
    groups: dict[tuple[torch.device, torch.dtype], list[torch.Tensor]] = {}
    for tensor in tensors:
        if isinstance(tensor, torch.nn.parameter.UninitializedTensorMixin):
            continue
        groups.setdefault((tensor.device, tensor.dtype), []).append(tensor)
    return list(groups.values())


def _flat(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([tensor.detach().reshape(-1) for tensor in tensors])


def _unflatten_into(flat: torch.Tensor, tensors: Sequence[torch.Tensor]) -> None:
    with torch.no_grad():
        for tensor, chunk in zip(tensors, torch.split(flat, [t.numel() for t in tensors])):
            tensor.copy_(chunk.view_as(tensor))


def has_uninitialized(modules: Iterable[torch.nn.Module | None]) -> bool:
    """Whether a lazy module among ``modules`` has not built its parameters yet."""
    return any(
        isinstance(parameter, torch.nn.parameter.UninitializedTensorMixin)
        for module in modules
        if module is not None
        for parameter in (*module.parameters(), *module.buffers())
    )


def broadcast_tensors(tensors: Iterable[torch.Tensor], source: int = 0) -> None:
    """Overwrite ``tensors`` in place with rank ``source``'s values (one broadcast per dtype and device)."""
    config.init_process_group()
    for bucket in _buckets(tensors):
        flat = _flat(bucket)
        dist.broadcast(flat, src=source)
        _unflatten_into(flat, bucket)


def broadcast_modules(modules: Iterable[torch.nn.Module | None], source: int = 0) -> None:
    """Give every rank rank ``source``'s parameters and buffers of ``modules`` (each module once).

    Parameters of lazy modules not built yet are skipped (see `GradientAverager`, which
    broadcasts them once they exist).
    """
    seen: set[int] = set()
    tensors: list[torch.Tensor] = []
    for module in modules:
        if module is None:
            continue
        for tensor in (*module.parameters(), *module.buffers()):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                tensors.append(tensor)
    broadcast_tensors(tensors, source)


def average_gradients(
    parameters: Sequence[torch.nn.Parameter], extra: torch.Tensor | None = None
) -> torch.Tensor | None:
    """Replace each ``.grad`` by its mean over the ranks: one flattened all-reduce per dtype and device.

    Parameters without a gradient are skipped; which ones have none must be the same on every rank
    (it is when it follows from the model's structure, e.g. a frozen or unused layer).

    Args:
        parameters: the parameters whose gradients are averaged.
        extra: a 0-d tensor averaged in the same all-reduce (no collective of its own), such as
            the loss whose finiteness every rank must agree on.

    Returns:
        The mean of ``extra`` over the ranks (0-d, a new tensor), or None without ``extra``.
    """
    config.init_process_group()
    tensors = [parameter.grad for parameter in parameters if parameter.grad is not None]
    carried = None if extra is None else extra.detach().reshape(1).clone()
    if carried is not None:
        tensors.append(carried)
    ranks = config.world_size
    for bucket in _buckets(tensors):
        flat = _flat(bucket)
        dist.all_reduce(flat)
        flat.div_(ranks)
        _unflatten_into(flat, bucket)
    return None if carried is None else carried.reshape(())


class GradientAverager:
    """What an optimisation step does when distributed: average the gradients of ``parameters``.

    Parameters of lazy modules, built after the agent broadcast its models, are broadcast from
    rank 0 at the first step after they exist (before the optimizer steps), so the ranks agree
    from then on.
    """

    def __init__(self, parameters: Sequence[torch.nn.Parameter]) -> None:
        self.parameters = list(parameters)
        self._lazy = [
            parameter
            for parameter in self.parameters
            if isinstance(parameter, torch.nn.parameter.UninitializedTensorMixin)
        ]

    def __call__(self, extra: torch.Tensor | None = None) -> torch.Tensor | None:
        """Average the gradients (and broadcast the lazily built parameters, once).

        Returns the mean of ``extra`` over the ranks, reduced in the gradients' all-reduce (see
        `average_gradients`), or None without it.
        """
        mean = average_gradients(self.parameters, extra)
        if self._lazy and not any(
            isinstance(p, torch.nn.parameter.UninitializedTensorMixin) for p in self._lazy
        ):
            broadcast_tensors(self._lazy)
            self._lazy = []
        return mean


def mean_over_ranks(value: torch.Tensor | float) -> torch.Tensor:
    """The mean of ``value`` (a tensor, or a number made a float64 tensor) over the ranks; a new tensor."""
    config.init_process_group()
    if torch.is_tensor(value):
        tensor = value.detach().clone()
    else:
        tensor = torch.tensor(float(value), dtype=torch.float64, device=_collective_device())
    dist.all_reduce(tensor)
    return tensor.div_(config.world_size)


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` is True on at least one rank (every rank gets the same answer)."""
    config.init_process_group()
    tensor = torch.tensor(int(bool(flag)), dtype=torch.int64, device=_collective_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def _collective_device() -> torch.device:
    """A device the backend accepts: the current CUDA device under NCCL, else the CPU."""
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def merge_moments(
    counts: torch.Tensor, means: torch.Tensor, variances: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Count, mean and unbiased variance of K groups concatenated, from each group's own.

    Chan, Golub and LeVeque's parallel algorithm for K groups: with n = Σ n_k and
    mean = Σ n_k·mean_k / n, the sum of squared deviations is
    Σ (n_k − 1)·var_k + Σ n_k·(mean_k − mean)², and var = that / (n − 1) (0 when n ≤ 1).

    Args:
        counts: (K,) the rows of each group (a group may be empty).
        means: (K, D) each group's mean (anything for an empty group).
        variances: (K, D) each group's unbiased variance (0 for a group of one row or none).

    Returns:
        (count 0-d, mean (D,), variance (D,)), in the inputs' dtype.
    """
    total = counts.sum()
    weights = (counts / total.clamp(min=1)).unsqueeze(-1)
    weights = torch.where(counts.unsqueeze(-1) > 0, weights, torch.zeros_like(weights))
    mean = (weights * torch.where(counts.unsqueeze(-1) > 0, means, torch.zeros_like(means))).sum(dim=0)
    squares = (counts.unsqueeze(-1) - 1).clamp(min=0) * variances + counts.unsqueeze(-1) * (
        torch.where(counts.unsqueeze(-1) > 0, means - mean, torch.zeros_like(means))
    ).square()
    variance = squares.sum(dim=0) / (total - 1).clamp(min=1) if total > 1 else torch.zeros_like(mean)
    return total, mean, variance


def pooled_moments(
    count: int, mean: torch.Tensor, variance: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every rank's (count, mean, unbiased variance) gathered and merged (`merge_moments`), in rank order.

    Args:
        count: this rank's number of rows (0 allowed: the rank still takes part).
        mean: (D,) this rank's mean.
        variance: (D,) its unbiased variance.

    Returns:
        (count, mean, variance) of all ranks' rows concatenated: the same tensors, bitwise, on every
        rank; float64, on ``mean``'s device.
    """
    config.init_process_group()
    device = mean.device
    local = torch.cat(
        [
            torch.tensor([float(count)], dtype=torch.float64, device=device),
            mean.detach().to(torch.float64).reshape(-1),
            variance.detach().to(torch.float64).reshape(-1),
        ]
    )
    gathered = [torch.empty_like(local) for _ in range(config.world_size)]
    dist.all_gather(gathered, local)
    table = torch.stack(gathered)
    width = mean.numel()
    return merge_moments(table[:, 0], table[:, 1 : 1 + width], table[:, 1 + width :])


def pooled_mean_std(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased std (0-d, ``values``' dtype) of every rank's ``values`` concatenated."""
    flat = values.detach().reshape(-1, 1)
    count = flat.shape[0]
    local_mean = flat.mean(dim=0) if count else flat.new_zeros(1)
    local_variance = flat.var(dim=0) if count > 1 else flat.new_zeros(1)
    _, mean, variance = pooled_moments(count, local_mean, local_variance)
    return mean[0].to(values.dtype), variance[0].sqrt().to(values.dtype)
