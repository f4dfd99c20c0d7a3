"""`TensorboardFileIterator`: iterate over TensorBoard event files, yielding the scalars of some tags.

Iteration follows skrl 0.10: the event files matching a glob pattern, in sorted order, each yielded
as `(name of the directory holding the file, {tag: [[step, value], ...]})`, with only the tags asked
for (a tag absent from a file is absent from its dict). The files are read with the `tensorboard`
package's event reader (skrl 0.10 needed TensorFlow).
"""

from __future__ import annotations

import glob
import os


class TensorboardFileIterator:
    """Iterates `(directory name, {tag: [[step, value], ...]})` over event files matching `pathname`.

    Args:
        pathname: a glob pattern, e.g. "runs/*/events.out.tfevents.*".
        tags: the scalar tag (or tags) to read, e.g. "Reward / Total reward (mean)".
    """

    def __init__(self, pathname: str, tags: str | list[str]) -> None:
        self.n = 0
        self.file_paths = sorted(glob.glob(pathname))
        self.tags = [tags] if isinstance(tags, str) else list(tags)

    def __iter__(self) -> TensorboardFileIterator:
        return self

    def __next__(self) -> tuple[str, dict[str, list[list[float]]]]:
        """The next file's directory name and the [step, value] pairs of the tags it holds.

        Raises:
            StopIteration: no file left.
        """
        if self.n >= len(self.file_paths):
            raise StopIteration
        path = self.file_paths[self.n]
        self.n += 1
        return os.path.basename(os.path.dirname(os.path.abspath(path))), read_scalars(path, self.tags)


def read_scalars(path: str, tags: list[str]) -> dict[str, list[list[float]]]:
    """{tag: [[step, value], ...]} of the `tags` that the event file at `path` holds, in file order."""
    from tensorboard.backend.event_processing import event_accumulator  # slow import: only when read

    accumulator = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    available = set(accumulator.Tags().get(event_accumulator.SCALARS, []))
    return {
        tag: [[event.step, event.value] for event in accumulator.Scalars(tag)]
        for tag in tags
        if tag in available
    }
