"""Image observations stay uint8 in memory: dtype from the space, one byte per pixel, exact round trip."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlblocks.memories.torch import RandomMemory
from rlblocks.utils import images

FRAMES = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)


def test_a_memory_tensor_of_an_image_space_is_uint8_one_byte_per_pixel():
    memory = RandomMemory(memory_size=100, num_envs=2, device="cpu")
    memory.create_tensor("states", FRAMES)
    states = memory.get_tensor_by_name("states")
    assert states.dtype == torch.uint8 and states.shape == (100, 2, 4 * 84 * 84)
    assert states.element_size() * states.numel() == 100 * 2 * 28224  # bytes: 5.6 MB, not 22.6 MB


def test_one_million_frame_stacks_take_one_byte_per_pixel():
    # the sizing rule, without allocating it: 1M (4, 84, 84) uint8 observations are 28.2 GB; as
    # float32 they would be 113 GB. (One 84x84 frame per row would be 7.1 GB.)
    dtype = images.storage_dtype(FRAMES)
    assert dtype == torch.uint8
    nbytes = 1_000_000 * 4 * 84 * 84 * torch.empty((), dtype=dtype).element_size()
    assert nbytes == 28_224_000_000
    assert images.storage_dtype(FRAMES, is_preprocessed=True) == torch.float32


def test_float_boxes_keep_float32_and_an_explicit_dtype_wins():
    memory = RandomMemory(memory_size=4, num_envs=1, device="cpu")
    memory.create_tensor("floats", spaces.Box(0.0, 1.0, (3, 8, 8), dtype=np.float32))
    memory.create_tensor("forced", FRAMES, dtype=torch.float32)
    assert memory.get_tensor_by_name("floats").dtype == torch.float32
    assert memory.get_tensor_by_name("forced").dtype == torch.float32


def test_images_written_in_their_shape_come_back_exactly():
    space = spaces.Box(0, 255, (2, 3, 3), dtype=np.uint8)
    memory = RandomMemory(memory_size=5, num_envs=2, device="cpu")
    memory.create_tensor("states", space)
    memory.create_tensor("rewards", 1)
    written = torch.randint(0, 256, (5, 2, 2, 3, 3), dtype=torch.uint8)
    for step in range(5):
        memory.add_samples(states=written[step], rewards=torch.ones(2, 1))
    assert memory.filled
    (stored,) = memory.sample_all(["states"])[0]
    assert stored.dtype == torch.uint8
    assert torch.equal(stored, written.reshape(10, 18))
    (batch,) = memory.sample(["states"], batch_size=4)[0]
    assert batch.dtype == torch.uint8 and batch.shape == (4, 18)


def test_image_rows_of_the_wrong_size_are_refused():
    memory = RandomMemory(memory_size=5, num_envs=2, device="cpu")
    memory.create_tensor("states", spaces.Box(0, 255, (2, 3, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="states"):
        memory.add_samples(states=torch.zeros(2, 2, 3, 4, dtype=torch.uint8))


def test_image_layouts():
    assert images.image_layout(FRAMES) == images.ImageLayout(4, 84, 84, False)
    assert images.image_layout(spaces.Box(0, 255, (210, 160, 3), dtype=np.uint8)).channels_last
    assert images.image_layout(spaces.Box(0, 255, (84, 84), dtype=np.uint8)).shape == (1, 84, 84)
    assert not images.is_image_space(spaces.Box(0.0, 1.0, (4, 84, 84)))
    assert not images.is_image_space(spaces.Discrete(3))
    with pytest.raises(ValueError, match="uint8 Box"):
        images.image_layout(spaces.Box(0.0, 1.0, (4,)))


def test_pixels_are_scaled_once_and_channels_last_frames_are_permuted():
    layout = images.image_layout(spaces.Box(0, 255, (5, 6, 3), dtype=np.uint8))
    frame = torch.arange(90, dtype=torch.uint8).reshape(1, 5, 6, 3)
    pixels = images.as_pixels(frame, layout)
    assert pixels.dtype == torch.float32 and pixels.shape == (1, 3, 5, 6)
    assert torch.allclose(pixels[0, 1, 0, :2], torch.tensor([1.0, 4.0]) / 255)
    assert torch.allclose(pixels[0, 2, 1, 0], torch.tensor(20.0) / 255)
    assert torch.equal(images.as_pixels(frame.reshape(1, -1).float(), layout), pixels)
