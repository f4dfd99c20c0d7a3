"""Off-policy agents on frame stacks store one frame per transition and learn exactly as before.

The agents are fed a recorded trajectory of gymnasium's ``FrameStackObservation(4)`` over random
(32, 32) frames, with terminations and truncations (`tests.helpers.frame_stacks`): the default
(``replay_storage="auto"``: frames) and skrl's layout (separate states and next_states) must
draw the same rows, hence the same batches, and end with the same weights, bitwise.
"""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlblocks.agents.torch.dqn import DQN
from rlblocks.memories.torch import RandomMemory
from rlblocks.utils.model_instantiators import deterministic_model
from tests.helpers.frame_stacks import record
from tests.helpers.syncs import count_host_syncs

STACKS = spaces.Box(0, 255, (4, 32, 32), dtype=np.uint8)
ACTIONS = spaces.Discrete(2)
NUM_ENVS = 2
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def q_network():
    torch.manual_seed(0)
    return deterministic_model(
        STACKS,
        ACTIONS,
        "cpu",
        encoder=[{"conv": [4, 8, 4]}, {"linear": 16}],
        hiddens=[],
        output_shape="ACTIONS",
        output_activation=None,
    )


def dqn(replay_storage, memory_size=64, experiment=NO_LOGS):
    cfg = {
        "learning_starts": 6,
        "batch_size": 8,
        "target_update_interval": 5,
        "replay_storage": replay_storage,
        "experiment": experiment,
    }
    memory = RandomMemory(memory_size, NUM_ENVS, device="cpu")
    models = {"q_network": q_network(), "target_q_network": q_network()}
    agent = DQN(models, memory, STACKS, ACTIONS, "cpu", cfg)
    agent.init()
    return agent


def feed(agent, trajectory, start=0):
    for timestep, (states, next_states, actions, rewards, terminated, truncated) in enumerate(
        trajectory, start
    ):
        agent.record_transition(
            states, actions, rewards, next_states, terminated, truncated, {}, timestep, 100
        )
        agent.post_interaction(timestep, 100)


def test_dqn_on_frame_stacks_stores_one_frame_per_transition_by_default():
    agent = dqn("auto")
    assert agent.frames_per_row == 4
    assert agent.memory.get_tensor_by_name("frames").shape == (64, NUM_ENVS, 32 * 32)
    assert "states" not in agent.memory.tensors and "next_states" not in agent.memory.tensors
    assert dqn("transitions").frames_per_row == 0


def test_dqn_learns_bitwise_the_same_from_frames_as_from_separate_next_states():
    trajectory = record(NUM_ENVS, 40, 4, shape=(32, 32))
    assert torch.cat([torch.cat(step[4:], 1) for step in trajectory]).any(0).all()  # both kinds of end
    weights = {}
    for replay_storage in ("frames", "transitions"):
        agent = dqn(replay_storage)
        torch.manual_seed(1)
        feed(agent, trajectory)
        torch.manual_seed(2)
        batch = agent.sample_batch()
        weights[replay_storage] = (
            [p.detach().clone() for p in agent.models["q_network"].parameters()],
            batch,
        )
    (frames, frames_batch), (plain, plain_batch) = weights["frames"], weights["transitions"]
    for name in ("states", "actions", "rewards", "next_states", "terminated"):
        assert torch.equal(getattr(frames_batch, name), getattr(plain_batch, name))
    for got, expected in zip(frames, plain):
        assert torch.equal(got, expected)
    assert not torch.equal(frames[0], next(q_network().parameters()))  # it did learn


def test_an_image_dqn_checkpoint_restores_its_frame_replay_and_goes_on(tmp_path):
    trajectory = record(NUM_ENVS, 50, 4, shape=(32, 32))
    agent = dqn("auto", memory_size=16)  # wraps: 30 steps in 16
    feed(agent, trajectory[:30])
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    resumed = dqn("auto", memory_size=16)
    resumed.load(path)
    for name in agent.memory.get_tensor_names():
        assert torch.equal(resumed.memory.tensors[name], agent.memory.tensors[name])
    for name, tensor in agent.memory.side_tensors.items():
        assert torch.equal(resumed.memory.side_tensors[name], tensor)
    torch.manual_seed(3)
    feed(agent, trajectory[30:], 30)
    torch.manual_seed(3)
    feed(resumed, trajectory[30:], 30)
    for got, expected in zip(
        resumed.models["q_network"].parameters(), agent.models["q_network"].parameters()
    ):
        assert torch.equal(got, expected)


@pytest.mark.parametrize("setting", ["frames", "next_row"])
def test_compact_storage_of_non_images_is_refused_by_name(setting):
    with pytest.raises(ValueError, match="image observations"):
        DQN(
            {"q_network": q_network(), "target_q_network": q_network()},
            RandomMemory(8, 1, device="cpu"),
            spaces.Box(-1.0, 1.0, (4,)),
            ACTIONS,
            "cpu",
            {"replay_storage": setting, "experiment": NO_LOGS},
        )


def test_an_unknown_replay_storage_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="next_row"):
        dqn("frame")


def test_a_memory_of_one_env_fed_several_is_refused_with_the_fix():
    agent = dqn("auto")
    agent.memory = RandomMemory(64, 1, device="cpu")
    agent._frame_replays = []
    agent._create_memory_tensors()
    states, next_states, actions, rewards, terminated, truncated = record(NUM_ENVS, 1, 4, shape=(32, 32))[0]
    with pytest.raises(ValueError, match="num_envs=env.num_envs"):
        agent.record_transition(states, actions, rewards, next_states, terminated, truncated, {}, 0, 1)


def test_the_frame_replay_reads_the_device_once_per_256_writes_and_1000_samples():
    trajectory = record(NUM_ENVS, 600, 4, shape=(32, 32))
    syncs = {}
    for replay_storage in ("frames", "transitions"):
        agent = dqn(replay_storage, memory_size=20_000)
        agent.cfg.learning_starts = 300
        with count_host_syncs() as counts:
            feed(agent, trajectory)
        syncs[replay_storage] = counts["total"]
    # growth checks at writes 0, 256, 512 (int() of the slots in use) and one check at the first sample
    assert 0 <= syncs["frames"] - syncs["transitions"] <= 4
