"""`torch_threads`: one torch thread while small CPU models train, the user's setting restored after."""

import pytest
import torch

from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.trainers.torch.threads import SMALL_MODEL_PARAMETERS, threads_for_run
from tests.trainers.torch.fake_agent import FakeAgent
from tests.trainers.torch.test_sequential import QUIET, counter_envs


class ThreadCountingAgent(FakeAgent):
    """A fake agent with one model that notes torch's thread count at every act."""

    def __init__(self, parameters: int = 10):
        super().__init__()
        self.device = torch.device("cpu")
        self.models = {"policy": torch.nn.Linear(parameters, 1, bias=False)}
        self.seen_threads = []

    def act(self, states, timestep, timesteps):
        self.seen_threads.append(torch.get_num_threads())
        return super().act(states, timestep, timesteps)


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def run(agent, **cfg):
    SequentialTrainer(counter_envs(3), agent, cfg={"timesteps": 3, **QUIET, **cfg}).train()
    return agent.seen_threads


def test_auto_uses_one_thread_for_small_cpu_models_and_restores_the_setting(two_threads):
    assert run(ThreadCountingAgent()) == [1, 1, 1]
    assert torch.get_num_threads() == 2


def test_auto_leaves_large_models_and_an_explicit_omp_setting_alone(two_threads, monkeypatch):
    assert run(ThreadCountingAgent(parameters=SMALL_MODEL_PARAMETERS + 1)) == [2, 2, 2]
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert run(ThreadCountingAgent()) == [2, 2, 2]


def test_an_int_sets_the_count_and_none_leaves_it(two_threads):
    assert run(ThreadCountingAgent(), torch_threads=3) == [3, 3, 3]
    assert run(ThreadCountingAgent(), torch_threads=None) == [2, 2, 2]
    assert torch.get_num_threads() == 2


def test_a_model_on_another_device_is_left_alone():
    agent = ThreadCountingAgent()
    agent.device = torch.device("meta")
    assert threads_for_run("auto", [agent]) is None


@pytest.mark.parametrize("value", [0, -1, 1.5, "many", True])
def test_bad_values_are_refused_with_the_key_and_the_accepted_ones(value):
    with pytest.raises(ValueError, match=r"\"torch_threads\" must be"):
        SequentialTrainer(counter_envs(3), FakeAgent(), cfg={"timesteps": 3, "torch_threads": value})
