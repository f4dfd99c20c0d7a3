"""Migrating checkpoints of stable-baselines3, rl_games and plain torch into rlblocks models.

- `migrate_model` is what `Model.migrate` runs: it reads a source safely, maps its tensors onto the
  model's (``name_map`` first, then by structure, shapes and names) and loads them only if every
  tensor of the model gets one.
- `load_normalization` returns the observation/value normalisation statistics a source applies, in
  `RunningStandardScaler` form (`NormalizationStatistics.to_scaler()`), so that a migrated policy
  acts exactly like the source one.

Modules: `sources` (reading and recognising files), `loading` (weights-only torch loading),
`sb3` and `rl_games` (each library's layout), `inert_pickle` (reading SB3's VecNormalize pickle
without running it), `structure` (layers and sub-networks behind names), `hints` (what a name or a
model stands for), `matching` (the mapping, on name -> shape tables), `migrate`, `normalization`.
"""

from rlblocks.utils.migration.migrate import migrate_model
from rlblocks.utils.migration.normalization import Normalization, NormalizationStatistics, load_normalization

__all__ = ["Normalization", "NormalizationStatistics", "load_normalization", "migrate_model"]
