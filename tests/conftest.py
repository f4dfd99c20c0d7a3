"""Test-wide settings: one torch thread (CI machines have two cores), deterministic seeds per test."""

import random

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    torch.set_num_threads(1)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
