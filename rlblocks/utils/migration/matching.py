"""Auto-mapping: which source tensor each current tensor takes, decided on ``name -> shape`` tables.

Shapes alone are ambiguous in real checkpoints, so the decision uses three things together:

1. **Structure.** Tensors are grouped into units (one layer) and blocks (``net.0 -> net.2 -> net.4``),
   see `structure`. Each block of the current model takes a *chain* of source units with the same
   tensors, layer by layer: consecutive layers of one source block, or the last layer of a block
   followed by the first layer of another (``actor_mlp.2 -> mu``). A chain starts at the start of
   a source block, or where the chain of the current block feeding this one ended (a head after
   its trunk), which also scores a little; links between blocks, and stopping before the end of
   a source block, cost a little.
2. **Names.** The current model's role (policy, value, critic, target, ...; see `hints`) and each
   unit's own name are compared with the source names: the same family scores, the opposite
   family costs, a target network only suits a target model. Equal names score most.
3. **Order.** Only among parallel copies (names equal up to numbers: ``critic.qf0`` /
   ``critic.qf1``), the copy the model's role number asks for ("critic_2"), else the first.

When the best chains still tie and are not copies, the case is ambiguous and nothing is loaded for
it, unless the tied sources hold equal values. Lone tensors (log-std parameters) are matched the
same way, by kind, shape and names. Source units no chain uses are simply skipped: optimizer
state, normalisation statistics, heads and target networks the current model does not have.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rlblocks.utils.migration.hints import MEAN, POLICY, Hints, ModelHints, name_hints
from rlblocks.utils.migration.structure import Shape, Unit, group_blocks, group_units, sibling_key

Segment = tuple[Unit, ...]
"""Source units given to one current block, position by position."""

EXACT_NAME, SUFFIX_NAME = 8.0, 4.0
SAME_FAMILY, SAME_PART, SAME_TARGET = 2.0, 1.0, 2.0
LINK_BETWEEN_BLOCKS, PARTIAL_BLOCK, CONTINUES_PARENT, REUSED = 1.0, 1.0, 1.0, 0.5
MAX_STEPS = 20_000
"""Chain extensions tried per current block before giving up. Only sources with many
interchangeable single-layer blocks reach it; the block is then reported, never guessed."""


@dataclass
class Matching:
    """The outcome of auto-mapping, by tensor name (source names as in the source table).

    Attributes:
        pairs: current name -> source name, for every resolved tensor.
        ambiguous: current name -> the equally good source names; nothing is loaded for these.
        missing: current name -> why no source tensor fits.
    """

    pairs: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def match_tables(
    current: Mapping[str, Shape],
    source: Mapping[str, Shape],
    model: ModelHints,
    pins: Mapping[str, str] | None = None,
    equal: Callable[[str, str], bool] | None = None,
) -> Matching:
    """Map the current table onto the source table (see the module docstring).

    Args:
        current: the current model's ``name -> shape``, in registration order.
        source: the source's ``name -> shape`` in file order, wrapper prefixes already stripped.
        model: the current model's hints.
        pins: current tensor name -> source tensor name chosen by the caller (``name_map``); the
            chains must agree with them where they can.
        equal: whether two source tensors hold equal values; tied chains of equal tensors are
            then not ambiguous.
    """
    matcher = _Matcher(current, source, model, pins or {}, equal)
    matcher.run()
    return matcher.result


class _Matcher:
    """The state of one `match_tables` call: the aligned units so far and the result."""

    def __init__(self, current, source, model, pins, equal) -> None:
        self.model, self.equal = model, equal
        self.current_units = group_units(current)
        self.source_units = group_units(source)
        self.source_blocks = group_blocks(self.source_units)
        self.successors = _successors(self.source_blocks)
        self.unit_of_tensor = {name: unit for unit in self.source_units for name in unit.names}
        self.pins = self._unit_pins(pins)
        self.aligned: dict[str, Unit] = {}
        self.used: set[str] = set()
        self.result = Matching()

    def run(self) -> None:
        done: list[list[Unit]] = []
        for block in group_blocks(self.current_units):
            self._align_block(block, parent=self._parent_of(block, done))
            done.append(block)
        for unit in self.current_units:
            if unit.is_lone:
                self._align_lone(unit)

    # --------------------------------------------------------------- blocks
    def _align_block(self, block: list[Unit], parent: Unit | None) -> None:
        try:
            segments = _chains(block, self.source_units, self.successors)
        except _TooManyChains:
            self._record_missing(block, reason="too many source chains fit it; choose with name_map")
            return
        segments = [seg for seg in segments if self._anchored(seg, parent)]
        if not segments:
            self._record_missing(block)
            return
        pinned = [seg for seg in segments if self._agrees_with_pins(block, seg)]
        segments = pinned or segments
        scores = [self._segment_score(block, seg, parent) for seg in segments]
        best = max(scores)
        tied = [seg for seg, score in zip(segments, scores) if score >= best - 1e-9]
        chosen = self._break_tie(tied)
        if chosen is None:
            for position, unit in enumerate(block):
                self._record_ambiguous(unit, [seg[position] for seg in tied])
            return
        for unit, source_unit in zip(block, chosen):
            self._record_pair(unit, source_unit)

    def _segment_score(self, block: list[Unit], segment: Segment, parent: Unit | None) -> float:
        score = sum(self._unit_score(unit, source) for unit, source in zip(block, segment))
        score -= REUSED * sum(source.path in self.used for source in segment)
        score -= LINK_BETWEEN_BLOCKS * sum(a.block != b.block for a, b in itertools.pairwise(segment))
        score -= PARTIAL_BLOCK * (segment[-1].path not in self.successors.last_units)
        score += CONTINUES_PARENT * self._continues(segment, parent)
        return score

    def _continues(self, segment: Segment, parent: Unit | None) -> bool:
        """Whether the chain starts where the parent block's chain ended (a head after its trunk)."""
        if parent is None or parent.path not in self.aligned:
            return False
        return segment[0] in self.successors.of(self.aligned[parent.path])

    def _anchored(self, segment: Segment, parent: Unit | None) -> bool:
        """A chain starts a source block, or continues the parent's chain: never a stray middle piece."""
        return segment[0].path in self.successors.first_units or self._continues(segment, parent)

    def _parent_of(self, block: list[Unit], done: list[list[Unit]]) -> Unit | None:
        """The last unit of the latest earlier block whose output width feeds this block's input."""
        width = block[0].in_width
        for earlier in reversed(done):
            if width is not None and earlier[-1].out_width == width:
                return earlier[-1]
        return None

    # ---------------------------------------------------------- lone units
    def _align_lone(self, unit: Unit) -> None:
        candidates = [source for source in self.source_units if source.signature == unit.signature]
        if not candidates:
            self.result.missing[unit.path] = "no source tensor of this kind and shape"
            return
        pin = self.pins.get(unit.path)
        if pin is not None and pin in candidates:
            candidates = [pin]
        scores = [
            self._unit_score(unit, source) - REUSED * (source.path in self.used) for source in candidates
        ]
        best = max(scores)
        tied = [(source,) for source, score in zip(candidates, scores) if score >= best - 1e-9]
        chosen = self._break_tie(tied)
        if chosen is None:
            self._record_ambiguous(unit, [segment[0] for segment in tied])
        else:
            self._record_pair(unit, chosen[0])

    # -------------------------------------------------------------- scoring
    def _unit_score(self, unit: Unit, source: Unit) -> float:
        score = 0.0
        if source.path == unit.path:
            score += EXACT_NAME
        elif source.path.endswith("." + unit.path):
            score += SUFFIX_NAME
        wanted, offered = self._current_hints(unit), name_hints(source.path)
        if wanted.families and offered.families:
            score += SAME_FAMILY if wanted.families & offered.families else -SAME_FAMILY
        if wanted.parts and offered.parts:
            score += SAME_PART if wanted.parts & offered.parts else -SAME_PART
        if offered.is_target:
            score += SAME_TARGET if wanted.is_target else -SAME_TARGET
        return score

    def _current_hints(self, unit: Unit) -> Hints:
        """A current unit's hints: its own name's, narrowed to the model's families."""
        own, model = name_hints(unit.path), self.model
        families = (own.families & model.families) or model.families or own.families
        parts = own.parts
        if not parts:
            parts = model.lone_parts if unit.is_lone else frozenset({MEAN} if families == {POLICY} else ())
        return Hints(families=families, parts=parts, is_target=model.is_target or own.is_target)

    def _break_tie(self, tied: list[Segment]) -> Segment | None:
        """The one chain to use among equally good ones, or None if it is genuinely ambiguous."""
        if len(tied) == 1:
            return tied[0]
        tied = sorted(tied, key=lambda segment: [source.order for source in segment])
        if len({tuple(sibling_key(source.path) for source in segment) for segment in tied}) == 1:
            ordinal = self.model.ordinal
            return tied[ordinal - 1 if ordinal and ordinal <= len(tied) else 0]
        if self.equal is not None and all(self._same_values(tied[0], other) for other in tied[1:]):
            return tied[0]
        return None

    def _same_values(self, first: Segment, other: Segment) -> bool:
        return all(
            self.equal(a, b) for unit, twin in zip(first, other) for a, b in zip(unit.names, twin.names)
        )

    # ------------------------------------------------------------ recording
    def _record_pair(self, unit: Unit, source: Unit) -> None:
        self.aligned[unit.path] = source
        self.used.add(source.path)
        for leaf, name in zip(unit.leaves, unit.names):
            self.result.pairs[name] = source.names[source.leaves.index(leaf)]

    def _record_ambiguous(self, unit: Unit, candidates: list[Unit]) -> None:
        for leaf, name in zip(unit.leaves, unit.names):
            names = [candidate.names[candidate.leaves.index(leaf)] for candidate in candidates]
            self.result.ambiguous[name] = list(dict.fromkeys(names))

    def _record_missing(self, block: list[Unit], reason: str | None = None) -> None:
        chain = " -> ".join(unit.path for unit in block)
        for unit in block:
            if reason is not None:
                self.result.missing.update(dict.fromkeys(unit.names, reason))
                continue
            alike = [source.path for source in self.source_units if source.signature == unit.signature]
            reason = (
                f"source layers with these tensors ({', '.join(alike[:4])}) exist, but in no chain of "
                f"source layers that lines up with {chain}"
                if alike
                else "no source layer with these tensors and shapes"
            )
            for name in unit.names:
                self.result.missing[name] = reason

    def _unit_pins(self, pins: Mapping[str, str]) -> dict[str, Unit]:
        """Current unit path -> the source unit that ``pins`` give one of its tensors."""
        by_tensor = {name: unit for unit in self.current_units for name in unit.names}
        unit_pins = {}
        for current_name, source_name in pins.items():
            unit, source = by_tensor.get(current_name), self.unit_of_tensor.get(source_name)
            if unit is not None and source is not None and source.signature == unit.signature:
                unit_pins[unit.path] = source
        return unit_pins

    def _agrees_with_pins(self, block: list[Unit], segment: Segment) -> bool:
        return all(self.pins.get(unit.path, source) == source for unit, source in zip(block, segment))


@dataclass(frozen=True)
class _Successors:
    """Which source layer may follow which in a chain."""

    next_in_block: dict[str, Unit]
    first_units: frozenset[str]
    last_units: frozenset[str]
    block_starts: tuple[Unit, ...]

    def of(self, unit: Unit) -> list[Unit]:
        """The next layer of the unit's block; after a block's last layer, the first layer of any other."""
        following = self.next_in_block.get(unit.path)
        if following is not None:
            return [following]
        return [start for start in self.block_starts if start.block != unit.block]


def _successors(blocks: list[list[Unit]]) -> _Successors:
    next_in_block = {a.path: b for block in blocks for a, b in itertools.pairwise(block)}
    return _Successors(
        next_in_block=next_in_block,
        first_units=frozenset(block[0].path for block in blocks),
        last_units=frozenset(block[-1].path for block in blocks),
        block_starts=tuple(block[0] for block in blocks),
    )


class _TooManyChains(Exception):
    """The chain search for one block exceeded MAX_STEPS."""


def _chains(block: list[Unit], source_units: list[Unit], successors: _Successors) -> list[Segment]:
    """Every chain of source layers whose tensors line up with ``block``'s, layer by layer.

    Raises:
        _TooManyChains: more than MAX_STEPS extensions were tried.
    """
    found: list[Segment] = []
    steps = 0

    def extend(chain: list[Unit]) -> None:
        nonlocal steps
        steps += 1
        if steps > MAX_STEPS:
            raise _TooManyChains
        if len(chain) == len(block):
            found.append(tuple(chain))
            return
        wanted = block[len(chain)].signature
        for following in successors.of(chain[-1]):
            if following.signature == wanted and following not in chain:
                extend([*chain, following])

    for start in source_units:
        if not start.is_lone and start.signature == block[0].signature:
            extend([start])
    return found
