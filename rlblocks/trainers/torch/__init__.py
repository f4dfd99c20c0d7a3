"""PyTorch trainers: `SequentialTrainer`, `ParallelTrainer` and `ManualTrainer` (alias `StepTrainer`)."""

from rlblocks.trainers.torch.base import Trainer, generate_equally_spaced_scopes
from rlblocks.trainers.torch.manual import ManualTrainer, StepTrainer
from rlblocks.trainers.torch.parallel import ParallelTrainer
from rlblocks.trainers.torch.sequential import SequentialTrainer

__all__ = [
    "ManualTrainer",
    "ParallelTrainer",
    "SequentialTrainer",
    "StepTrainer",
    "Trainer",
    "generate_equally_spaced_scopes",
]
