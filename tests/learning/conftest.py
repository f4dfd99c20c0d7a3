"""Fixtures of the learning tests."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (fastest for these small networks), the previous count after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
