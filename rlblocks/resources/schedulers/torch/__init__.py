"""PyTorch learning-rate schedulers. `KLAdaptiveLR` is another name for `KLAdaptiveRL`."""

from rlblocks.resources.schedulers.torch.kl_adaptive import KLAdaptiveLR, KLAdaptiveRL

__all__ = ["KLAdaptiveLR", "KLAdaptiveRL"]
