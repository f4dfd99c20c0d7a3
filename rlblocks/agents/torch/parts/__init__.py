"""Parts an agent holds and calls: each does one job the agents share, and knows nothing of the others.

- `OptimisationStep`: zero-grad, backward, gradient-norm clip, optimizer step, scheduler step.
- `TargetNetworks`: target/source pairs, frozen and hard-copied at start, Polyak-updated after.
- `TensorSchema`: the tensors an agent stores, declared once; memory tensors and named batches from it.
- `Metrics`: tracked values kept on the device until a write reads them all in one transfer.
- `StepCounter`: a checkpointed count (TD3's critic updates).
"""

from rlblocks.agents.torch.parts.counter import StepCounter
from rlblocks.agents.torch.parts.metrics import Metrics
from rlblocks.agents.torch.parts.optimisation import OptimisationStep
from rlblocks.agents.torch.parts.schema import StoredTensor, TensorSchema, split_batch
from rlblocks.agents.torch.parts.targets import TargetNetworks

__all__ = [
    "Metrics",
    "OptimisationStep",
    "StepCounter",
    "StoredTensor",
    "TargetNetworks",
    "TensorSchema",
    "split_batch",
]
