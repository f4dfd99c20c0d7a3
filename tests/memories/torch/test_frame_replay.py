"""`FrameReplay` gives bitwise the transitions of separate states/next_states tensors, in less memory.

The trajectories come from gymnasium's own ``FrameStackObservation`` (reset padding) over a
small env of random uint8 frames that terminates at random and is truncated by ``TimeLimit``
(`tests.helpers.frame_stacks`).
"""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlblocks.memories.torch import RandomMemory, frames
from rlblocks.memories.torch.frames import FrameReplay, frames_per_row
from rlblocks.memories.torch.indexes import complete_steps
from rlblocks.memories.torch.snapshot import apply_state, checked_state, memory_state
from rlblocks.utils.checkpoint import CheckpointError
from tests.helpers.frame_stacks import record

FRAME = (6, 5)
OTHERS = ("actions", "rewards", "terminated")


def memories(num_envs, memory_size, stack, side_capacity=None):
    space = spaces.Box(0, 255, (stack, *FRAME) if stack > 1 else FRAME, dtype=np.uint8)
    reference = RandomMemory(memory_size, num_envs, device="cpu")
    for name, size, dtype in (
        ("states", space, torch.uint8),
        ("next_states", space, torch.uint8),
        ("actions", 1, torch.int64),
        ("rewards", 1, torch.float32),
        ("terminated", 1, torch.bool),
    ):
        reference.create_tensor(name, size, dtype)
    compact = RandomMemory(memory_size, num_envs, device="cpu")
    for name, dtype in (("actions", torch.int64), ("rewards", torch.float32), ("terminated", torch.bool)):
        compact.create_tensor(name, 1, dtype)
    return reference, FrameReplay(compact, space.shape, stack, side_capacity)


def write(reference, replay, step):
    states, next_states, actions, rewards, terminated, truncated = step
    others = {"actions": actions, "rewards": rewards, "terminated": terminated}
    reference.add_samples(states=states, next_states=next_states, **others)
    replay.add(states, next_states, terminated | truncated, **others)


def sampleable_rows(memory, stack):
    first, count = complete_steps(memory.memory_index, memory.env_index, memory.filled, memory.memory_size)
    skipped = stack - 1 if memory.filled else 0
    steps = [(first + position) % memory.memory_size for position in range(skipped, count)]
    return torch.tensor([step * memory.num_envs + env for step in steps for env in range(memory.num_envs)])


def assert_same_transitions(reference, replay):
    replay.check()  # no side slot still in use was overwritten
    rows = sampleable_rows(replay.memory, replay.stack)
    expected = reference.sample_by_index(["states", "next_states", *OTHERS], rows)[0]
    batch = replay.gather(OTHERS, rows)
    assert torch.equal(batch.states, expected[0])
    assert torch.equal(batch.next_states, expected[1])
    for got, wanted in zip(batch.others, expected[2:]):
        assert torch.equal(got, wanted)


@pytest.mark.parametrize("stack", [1, 4])
def test_every_sampleable_row_is_bitwise_the_separate_tensors_row_as_the_buffer_wraps(stack):
    trajectory = record(num_envs=3, steps=60, stack=stack)
    ends = torch.stack([torch.cat(step[4:], 1) for step in trajectory])
    assert ends[..., 0].any() and ends[..., 1].any()  # terminations and truncations both occur
    reference, replay = memories(num_envs=3, memory_size=16, stack=stack)
    for step in trajectory:
        write(reference, replay, step)
        assert_same_transitions(reference, replay)  # the newest step's next states too
    assert replay.memory.filled


def test_rebuilt_first_stacks_repeat_the_reset_frame_as_frame_stack_observation_pads():
    trajectory = record(num_envs=2, steps=30, stack=4)
    reference, replay = memories(num_envs=2, memory_size=40, stack=4)
    for step in trajectory:
        write(reference, replay, step)
    first = replay.memory.tensors_view["first"].view(-1)[:60].clone()
    first[:2] = False  # the very first rows are never sampled (no history before them)
    rows = torch.arange(60)[first]
    assert rows.numel() > 2
    states = replay.gather(OTHERS, rows).states.view(-1, 4, *FRAME)
    assert torch.equal(states, states[:, -1:].expand_as(states))


@pytest.mark.parametrize("stack", [1, 4])
def test_samples_take_every_row_but_once_wrapped_the_oldest_stack_minus_one_steps(stack):
    trajectory = record(num_envs=2, steps=25, stack=stack)
    reference, replay = memories(num_envs=2, memory_size=10, stack=stack)
    for index, step in enumerate(trajectory):
        write(reference, replay, step)
        if index in (2, 24):  # before and after the buffer wraps
            replay.sample(OTHERS, 4000)
            drawn = set(replay.memory.get_sampling_indexes().tolist())
            assert drawn == set(sampleable_rows(replay.memory, stack).tolist())
            assert len(drawn) == 2 * (index + 1 if index < 10 else 10 - (stack - 1))


def test_a_state_that_does_not_follow_the_last_next_state_ends_the_last_row_exactly():
    """A resume (or a hand reset) writes a state that is not the last next state: no mixing."""
    first, second = record(3, 12, 4, seed=0), record(3, 12, 4, seed=7)
    reference, replay = memories(num_envs=3, memory_size=30, stack=4, side_capacity=40)
    for step in first + second:
        write(reference, replay, step)
    assert_same_transitions(reference, replay)


@pytest.mark.parametrize("side_capacity", [None, 3])
def test_a_checkpointed_replay_round_trips_and_goes_on_exactly(side_capacity, monkeypatch):
    monkeypatch.setattr(frames, "GROW_INTERVAL", 2)
    trajectory = record(num_envs=2, steps=40, stack=4)
    reference, replay = memories(num_envs=2, memory_size=16, stack=4, side_capacity=side_capacity)
    for step in trajectory[:30]:
        write(reference, replay, step)
    state = memory_state(replay.memory)
    assert set(state["side_tensors"]) == {
        "final_frames",
        "final_owner",
        "final_count",
        "last_next_states",
        "last_ended",
    }
    _, restored = memories(num_envs=2, memory_size=16, stack=4, side_capacity=5)
    apply_state(restored.memory, checked_state(restored.memory, state, "test"))
    assert restored.side_capacity == replay.side_capacity  # a grown store is restored grown
    for step in trajectory[30:]:
        write(reference, restored, step)
    assert_same_transitions(reference, restored)
    _, plain = memories(num_envs=2, memory_size=16, stack=1)
    with pytest.raises(CheckpointError, match="side tensor"):
        checked_state(plain.memory, state, "test")


def stored_bytes(memory):
    tensors = [*memory.tensors.values(), *memory.side_tensors.values()]
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


@pytest.mark.parametrize("replay_storage", ["frames", "transitions"])
def test_a_million_pong_transitions_take_one_frame_each_and_a_small_overhead(replay_storage):
    """Allocated on the meta device: the sizes are real, no memory is."""
    memory_size, space = 1_000_000, spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    memory = RandomMemory(memory_size, 1, device="meta")
    memory.create_tensor("actions", 1, torch.int64)
    memory.create_tensor("rewards", 1, torch.float32)
    memory.create_tensor("terminated", 1, torch.bool)
    if replay_storage == "frames":
        FrameReplay(memory, space.shape, stack=frames_per_row("auto", space))
    else:
        memory.create_tensor("states", space)
        memory.create_tensor("next_states", space)
        memory.side_tensors = {}
    per_transition = stored_bytes(memory) / memory_size
    print(f"{replay_storage}: {per_transition:.1f} bytes per transition")
    if replay_storage == "frames":
        # 84·84 frame; actions 8, rewards 4, 3 flags, final_slot 8; side store 84·84 / 32 + a little
        assert 84 * 84 < per_transition <= 84 * 84 + 300
    else:
        assert per_transition == 2 * 4 * 84 * 84 + 13


def test_frames_that_are_not_stacks_are_refused_at_the_first_sample():
    reference, replay = memories(num_envs=2, memory_size=10, stack=4)
    generator = torch.Generator().manual_seed(0)
    for _ in range(6):
        states, next_states = (
            torch.randint(0, 256, (2, 4, *FRAME), generator=generator).byte() for _ in "ab"
        )
        false = torch.zeros(2, 1, dtype=torch.bool)
        write(
            reference,
            replay,
            (states, next_states, torch.zeros(2, 1).long(), torch.zeros(2, 1), false, false),
        )
    with pytest.raises(ValueError, match='replay_storage="next_row"'):
        replay.sample(OTHERS, 4)


def test_the_side_store_grows_with_short_episodes_and_stays_exact(monkeypatch):
    monkeypatch.setattr(frames, "GROW_INTERVAL", 2)  # margin: 2 * 2 * 3 = 12 free slots
    trajectory = record(num_envs=3, steps=90, stack=4)
    reference, replay = memories(num_envs=3, memory_size=60, stack=4, side_capacity=3)
    capacities = set()
    for step in trajectory:
        write(reference, replay, step)
        assert_same_transitions(reference, replay)
        capacities.add(replay.side_capacity)
    assert len(capacities) >= 3 and max(capacities) <= frames.max_side_capacity(60, 3)


def test_an_overwritten_final_frame_still_in_use_is_refused(monkeypatch):
    monkeypatch.setattr(FrameReplay, "_grow_if_needed", lambda self: None)
    trajectory = record(num_envs=2, steps=40, stack=1)
    reference, replay = memories(num_envs=2, memory_size=40, stack=1, side_capacity=2)
    for step in trajectory:
        write(reference, replay, step)
    with pytest.raises(ValueError, match="replay_side_capacity"):
        replay.sample(OTHERS, 4)


def test_the_layout_follows_the_observation_space():
    def box(*shape):
        return spaces.Box(0, 255, shape, dtype=np.uint8)

    assert frames_per_row("auto", box(4, 84, 84)) == 4
    assert frames_per_row("auto", box(3, 64, 64)) == 1  # RGB, not a stack
    assert frames_per_row("auto", box(2, 8, 8)) == 1  # too small to be frames
    assert frames_per_row("auto", box(210, 160, 3)) == 1
    assert frames_per_row("auto", spaces.Box(-1, 1, (4,))) == 0
    assert frames_per_row("transitions", box(4, 84, 84)) == 0
    assert frames_per_row("frames", box(2, 8, 8)) == 2
    with pytest.raises(ValueError, match="image observations"):
        frames_per_row("next_row", spaces.Box(-1, 1, (4,)))
    with pytest.raises(ValueError, match='use "next_row"'):
        frames_per_row("frames", box(210, 160, 3))
