"""The vanilla policy-gradient loss (A2C's policy loss).

Takes (B, 1) tensors and returns a 0-d tensor.
"""

from __future__ import annotations

from torch import Tensor


def policy_gradient_loss(log_prob: Tensor, advantages: Tensor) -> Tensor:
    """−E[A(s, a) · log π(a|s)] (Williams 1992; Mnih et al. 2016, the actor's loss).

    Args:
        log_prob: log π(a|s) of the taken actions under the current policy (with gradients).
        advantages: A(s, a), treated as constants.
    """
    return -(advantages.detach() * log_prob).mean()
