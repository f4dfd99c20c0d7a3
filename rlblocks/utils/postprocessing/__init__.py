"""Reading back what a run wrote, as skrl 0.10's `skrl.utils.postprocessing`.

`MemoryFileIterator` reads exported memories, `TensorboardFileIterator` TensorBoard event files.
"""

from rlblocks.utils.postprocessing.memory_files import MemoryFileIterator
from rlblocks.utils.postprocessing.tensorboard_files import TensorboardFileIterator

__all__ = ["MemoryFileIterator", "TensorboardFileIterator"]
