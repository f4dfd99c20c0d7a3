"""Trust-region maths of TRPO (Schulman et al. 2015, arXiv:1502.05477, appendix C).

The natural-gradient step solves F·x = g by conjugate gradient, where g is the gradient of the
surrogate and F the Fisher matrix, the Hessian of the mean KL(π_old ‖ π_θ) at θ = θ_old, used only
through products F·v (`fisher_vector_product`). The step x is scaled so that ½·xᵀFx = δ
(`max_kl_step`), then shrunk by a backtracking line search until the KL stays within δ and the
surrogate improves by enough (`backtracking_line_search`).

Parameters travel as one flat vector (P,) of every trained parameter (`flat_parameters`,
`set_flat_parameters`, `flat_gradient`).

Differs from skrl 0.10 (bug #16):
- the KL is torch's ``kl_divergence`` of the policy's own distributions (`mean_kl`); skrl's
  hand-written Gaussian KL has the log-σ term's sign reversed (``log σ_old − log σ_new``);
- the line search compares the actual improvement with α·(expected improvement) at each α; skrl
  multiplies the expected improvement by every α tried so far (∏α instead of α).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch.distributions import Distribution, kl_divergence

MatrixVectorProduct = Callable[[Tensor], Tensor]
"""v (P,) -> A·v (P,) for a symmetric positive-definite A."""


# ------------------------------------------------------------------ flat parameters
def flat_parameters(parameters: Iterable[torch.nn.Parameter]) -> Tensor:
    """Every parameter flattened and concatenated, (P,), detached (a copy)."""
    return torch.cat([parameter.detach().reshape(-1) for parameter in parameters])


def set_flat_parameters(vector: Tensor, parameters: Sequence[torch.nn.Parameter]) -> None:
    """Copy the flat (P,) ``vector`` into ``parameters`` in place, in the order of `flat_parameters`.

    Raises:
        ValueError: the vector's length is not the parameters' total size.
    """
    sizes = [parameter.numel() for parameter in parameters]
    if vector.numel() != sum(sizes):
        raise ValueError(f"the vector has {vector.numel()} elements, the parameters {sum(sizes)}")
    with torch.no_grad():
        for parameter, chunk in zip(parameters, torch.split(vector, sizes), strict=True):
            parameter.copy_(chunk.view_as(parameter))


def flat_gradient(
    output: Tensor,
    parameters: Sequence[torch.nn.Parameter],
    create_graph: bool = False,
    retain_graph: bool = False,
) -> Tensor:
    """The gradient of ``output`` with respect to ``parameters``, one (P,) vector (zeros where unused).

    Args:
        output: a 0-d tensor.
        parameters: the parameters to differentiate with respect to.
        create_graph: keep the gradient differentiable (for Hessian-vector products).
        retain_graph: keep ``output``'s graph for another backward pass (implied by ``create_graph``).
    """
    gradients = torch.autograd.grad(
        output,
        parameters,
        create_graph=create_graph,
        retain_graph=create_graph or retain_graph,
        allow_unused=True,
    )
    return _flatten(gradients, parameters)


def _flatten(gradients: Sequence[Tensor | None], parameters: Sequence[torch.nn.Parameter]) -> Tensor:
    """Gradients as one (P,) vector, zeros for the parameters without one."""
    return torch.cat(
        [
            (torch.zeros_like(parameter) if gradient is None else gradient).reshape(-1)
            for parameter, gradient in zip(parameters, gradients, strict=True)
        ]
    )


# ------------------------------------------------------------------ KL and Fisher matrix
def mean_kl(old: Distribution, new: Distribution) -> Tensor:
    """Mean over the batch of KL(old ‖ new), summed over the action dimensions, 0-d.

    Works for any pair torch's ``kl_divergence`` knows: a diagonal ``Normal`` with (N, A)
    parameters (whose per-dimension KLs are summed, as for a joint diagonal Gaussian),
    ``MultivariateNormal`` and ``Categorical`` ((N,) KLs).
    """
    kl = kl_divergence(old, new)
    return kl.reshape(kl.shape[0], -1).sum(dim=-1).mean() if kl.dim() > 0 else kl


def fisher_vector_product(
    kl: Tensor, parameters: Sequence[torch.nn.Parameter], damping: float
) -> MatrixVectorProduct:
    """The damped Fisher-vector product at the current θ, v -> (∇²_θ KL)·v + damping·v.

    The gradient of ``kl`` is taken once, with its graph; each product is then one more backward
    pass (Pearlmutter's trick), not a new forward pass.

    Args:
        kl: the 0-d mean KL(π_old ‖ π_θ) with π_old detached, as a function of ``parameters``.
        parameters: θ (P elements in all).
        damping: the multiple of the identity added to the Hessian (keeps it positive-definite).

    Returns:
        A function of a (P,) vector returning a (P,) vector (differentiable graphs are not kept).
    """
    kl_gradient = flat_gradient(kl, parameters, create_graph=True)

    def product(vector: Tensor) -> Tensor:
        hessian_vector = torch.autograd.grad(
            kl_gradient @ vector.detach(), parameters, retain_graph=True, allow_unused=True
        )
        return _flatten(hessian_vector, parameters) + damping * vector

    return product


# ------------------------------------------------------------------ conjugate gradient
def conjugate_gradient(
    matrix_vector_product: MatrixVectorProduct,
    b: Tensor,
    num_iterations: int,
    residual_tolerance: float = 1e-10,
) -> Tensor:
    """Approximate x = A⁻¹·b for a symmetric positive-definite A known only through A·v.

    Starts from x = 0 and runs ``num_iterations`` iterations (exact after P of them, P = len(b),
    in exact arithmetic). Once the squared residual rᵀr falls below ``residual_tolerance`` the
    iterate stops changing; the test is made on the device (no host read per iteration).

    Returns:
        x, shaped as ``b``.
    """
    x = torch.zeros_like(b)
    residual = b.clone()
    direction = b.clone()
    residual_norm = residual @ residual
    tiny = torch.finfo(b.dtype).tiny
    for _ in range(num_iterations):
        is_active = residual_norm > residual_tolerance
        product = matrix_vector_product(direction)
        alpha = torch.where(is_active, residual_norm / (direction @ product).clamp_min(tiny), 0.0)
        x = x + alpha * direction
        residual = residual - alpha * product
        new_residual_norm = residual @ residual
        beta = torch.where(is_active, new_residual_norm / residual_norm.clamp_min(tiny), 0.0)
        direction = residual + beta * direction
        residual_norm = torch.where(is_active, new_residual_norm, residual_norm)
    return x


def max_kl_step(search_direction: Tensor, fisher_product: Tensor, max_kl_divergence: float) -> Tensor:
    """The step β·x along ``search_direction`` x whose quadratic KL ½·β²·xᵀFx equals the bound δ.

    β = sqrt(2δ / xᵀFx), with ``fisher_product`` = F·x.
    """
    curvature = (search_direction @ fisher_product).clamp_min(torch.finfo(search_direction.dtype).tiny)
    return torch.sqrt(2.0 * max_kl_divergence / curvature) * search_direction


# ------------------------------------------------------------------ line search
class Trial(NamedTuple):
    """The surrogate objective (to maximise) and the mean KL from the old policy at one candidate."""

    objective: Tensor
    kl: Tensor


class LineSearchResult(NamedTuple):
    """What the line search chose.

    Attributes:
        parameters: the accepted (P,) parameters, or the old ones when no step was accepted.
        is_accepted: whether some step was accepted.
        step_size: the accepted α (0.0 when none was).
        num_trials: how many candidates were evaluated.
        trial: the accepted candidate's `Trial` (None when none was).
    """

    parameters: Tensor
    is_accepted: bool
    step_size: float
    num_trials: int
    trial: Trial | None


def backtracking_line_search(
    evaluate: Callable[[Tensor], Trial],
    old_parameters: Tensor,
    full_step: Tensor,
    old_objective: Tensor,
    expected_improvement: Tensor,
    max_kl_divergence: float,
    accept_ratio: float,
    step_fraction: float = 1.0,
    max_backtrack_steps: int = 10,
) -> LineSearchResult:
    """Try θ_old + α·Δθ for α = step_fraction·0.5^i (i = 0, 1, ...); keep the first good candidate.

    A candidate is accepted when its KL is at most δ and its actual improvement reaches
    ``accept_ratio`` times the improvement the linear model predicts for that α:
    ``objective(α) − old_objective ≥ accept_ratio · α · expected_improvement``.

    Args:
        evaluate: (P,) candidate parameters -> its `Trial` (the caller loads the candidate into the
            policy to evaluate it; the caller also loads the returned ``parameters`` afterwards).
        old_parameters: θ_old, (P,).
        full_step: Δθ, (P,), the step of `max_kl_step`.
        old_objective: the surrogate at θ_old, 0-d.
        expected_improvement: gᵀΔθ, the first-order improvement of the full step, 0-d.
        max_kl_divergence: δ.
        accept_ratio: the fraction of the predicted improvement a step must reach.
        step_fraction: the first α.
        max_backtrack_steps: how many α to try.

    Returns:
        The chosen parameters (the old ones when no candidate is accepted) and what was tried. Each
        trial reads one boolean on the host: the search decides whether to go on.
    """
    for index in range(max_backtrack_steps):
        step_size = step_fraction * 0.5**index
        candidate = old_parameters + step_size * full_step
        trial = evaluate(candidate)
        improvement = trial.objective - old_objective
        is_good = (trial.kl <= max_kl_divergence) & (
            improvement >= accept_ratio * step_size * expected_improvement
        )
        if bool(is_good):
            return LineSearchResult(candidate, True, step_size, index + 1, trial)
    return LineSearchResult(old_parameters, False, 0.0, max_backtrack_steps, None)
