"""PyTorch trainers: `SequentialTrainer`, `ParallelTrainer` and `ManualTrainer` (alias `StepTrainer`)."""

from rlblocks.trainers.torch.base import Trainer, generate_equally_spaced_scopes
from rlblocks.trainers.torch.callbacks import Callback, StopTraining
from rlblocks.trainers.torch.manual import ManualTrainer, StepTrainer
from rlblocks.trainers.torch.parallel import ParallelTrainer
from rlblocks.trainers.torch.periodic_evaluation import EvaluationResult, evaluate_episodes
from rlblocks.trainers.torch.sequential import SequentialTrainer

__all__ = [
    "Callback",
    "EvaluationResult",
    "ManualTrainer",
    "ParallelTrainer",
    "SequentialTrainer",
    "StepTrainer",
    "StopTraining",
    "Trainer",
    "evaluate_episodes",
    "generate_equally_spaced_scopes",
]
