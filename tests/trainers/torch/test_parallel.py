"""ParallelTrainer: the same calls as SequentialTrainer, with each agent on its own thread."""

import pytest
import torch
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv

from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import ParallelTrainer, SequentialTrainer
from tests.helpers.envs import make_counter_env
from tests.trainers.torch.fake_agent import FakeAgent

QUIET = {"disable_progressbar": True, "headless": True}


def counter_envs(*lengths, vector_class=SyncVectorEnv):
    return wrap_env(vector_class([make_counter_env(length) for length in lengths]), verbose=False)


def run(trainer_class, num_agents, mode, lengths=(2, 3, 4, 5)):
    agents = [FakeAgent(action_value=index % 2) for index in range(num_agents)]
    trainer = trainer_class(counter_envs(*lengths), agents, cfg={"timesteps": 6, **QUIET})
    getattr(trainer, mode)()
    return agents


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("num_agents", [1, 2])
def test_each_agent_gets_the_same_calls_and_transitions_as_with_the_sequential_trainer(num_agents, mode):
    parallel = run(ParallelTrainer, num_agents, mode)
    sequential = run(SequentialTrainer, num_agents, mode)
    for parallel_agent, sequential_agent in zip(parallel, sequential):
        assert parallel_agent.calls == sequential_agent.calls
        assert len(parallel_agent.transitions) == 6
        for got, expected in zip(parallel_agent.transitions, sequential_agent.transitions):
            for name in ("states", "actions", "rewards", "next_states", "terminated", "truncated"):
                assert torch.equal(got[name], expected[name])
        assert parallel_agent.grad_enabled == [False] * 12


def test_two_agents_run_on_their_own_worker_threads():
    first, second = run(ParallelTrainer, 2, "train")
    assert first.threads - {"MainThread"} == {"rlblocks-agent-0_0"}
    assert second.threads - {"MainThread"} == {"rlblocks-agent-1_0"}


def test_one_agent_runs_on_the_main_thread():
    (agent,) = run(ParallelTrainer, 1, "train")
    assert agent.threads == {"MainThread"}


def test_two_agents_train_then_eval_with_an_async_env():
    agents = [FakeAgent(), FakeAgent()]
    env = counter_envs(2, 3, vector_class=AsyncVectorEnv)
    trainer = ParallelTrainer(env, agents, cfg={"timesteps": 5, "close_environment_at_exit": False, **QUIET})
    trainer.train()
    trainer.eval()
    env.close()
    for agent in agents:
        assert len(agent.hooks("pre_interaction")) == 5 and len(agent.hooks("post_interaction")) == 10
        for transition in agent.transitions:
            assert torch.equal(transition["next_states"], transition["states"] + 1)


def test_an_agent_error_is_raised_in_the_caller_and_the_workers_stop():
    agents = [FakeAgent(), FakeAgent(fail_in="record_transition")]
    trainer = ParallelTrainer(counter_envs(2, 3), agents, cfg={"timesteps": 5, **QUIET})
    with pytest.raises(RuntimeError, match="fake failure in record_transition"):
        trainer.train()
    assert not trainer._workers
    assert agents[0].hooks("post_interaction") == [(0, 5)]  # the healthy agent finished its step
