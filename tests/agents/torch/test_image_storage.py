"""Agents store raw image observations as uint8 (never upcast before storage), and act on them."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlblocks.agents.torch.dqn import DQN
from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.sac import SAC
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.utils.model_instantiators import categorical_model, deterministic_model, gaussian_model

FRAMES = spaces.Box(0, 255, (2, 8, 8), dtype=np.uint8)
ENCODER = [{"conv": [4, 3, 2]}, {"linear": 16}]
NO_LOGS = {"experiment": {"write_interval": 0, "checkpoint_interval": 0}}
NUM_ENVS = 3


def frames(seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (NUM_ENVS, 2, 8, 8), dtype=torch.uint8, generator=generator)


def step(agent, timestep: int) -> None:
    states, next_states = frames(timestep), frames(timestep + 100)
    actions = agent.act(states, timestep, 10)[0]
    agent.record_transition(
        states,
        actions,
        torch.ones(NUM_ENVS, 1),
        next_states,
        torch.zeros(NUM_ENVS, 1, dtype=torch.bool),
        torch.zeros(NUM_ENVS, 1, dtype=torch.bool),
        {},
        timestep,
        10,
    )


def ppo(state_preprocessor=None):
    actions = spaces.Discrete(3)
    policy = categorical_model(FRAMES, actions, "cpu", encoder=ENCODER, hiddens=[])
    value = deterministic_model(
        FRAMES, actions, "cpu", encoder=ENCODER, hiddens=[], output_shape="ONE", output_activation=None
    )
    cfg = {"rollouts": 4, "mini_batches": 2, "state_preprocessor": state_preprocessor, **NO_LOGS}
    memory = RandomMemory(4, NUM_ENVS, device="cpu")
    agent = PPO({"policy": policy, "value": value}, memory, FRAMES, actions, "cpu", cfg)
    agent.init()
    return agent, memory


def test_ppo_stores_the_raw_uint8_frames_it_acted_on_and_updates_from_them():
    agent, memory = ppo()
    for timestep in range(4):
        step(agent, timestep)
        agent.post_interaction(timestep, 10)  # the 4th step updates from the stored rollout
    stored = memory.get_tensor_by_name("states")
    assert stored.dtype == torch.uint8
    assert torch.equal(stored[2], frames(2).reshape(NUM_ENVS, -1))


def test_ppo_with_a_state_preprocessor_stores_its_float_output():
    agent, memory = ppo(RunningStandardScaler)
    step(agent, 0)
    assert memory.get_tensor_by_name("states").dtype == torch.float32


def dqn_after_four_steps(replay_storage):
    actions = spaces.Discrete(3)

    def q_network():
        return deterministic_model(
            FRAMES,
            actions,
            "cpu",
            encoder=ENCODER,
            hiddens=[],
            output_shape="ACTIONS",
            output_activation=None,
        )

    memory = RandomMemory(8, NUM_ENVS, device="cpu")
    cfg = {"learning_starts": 2, "batch_size": 4, "replay_storage": replay_storage, **NO_LOGS}
    agent = DQN(
        {"q_network": q_network(), "target_q_network": q_network()}, memory, FRAMES, actions, "cpu", cfg
    )
    agent.init()
    for timestep in range(4):
        step(agent, timestep)
        agent.post_interaction(timestep, 10)
    return agent, memory


def test_dqn_replay_holds_uint8_states_and_next_states():
    _, memory = dqn_after_four_steps("transitions")
    for name, seed in (("states", 3), ("next_states", 103)):
        stored = memory.get_tensor_by_name(name)
        assert stored.dtype == torch.uint8
        assert torch.equal(stored[3], frames(seed).reshape(NUM_ENVS, -1))


def test_dqn_replay_of_images_holds_one_uint8_observation_per_transition_by_default():
    agent, memory = dqn_after_four_steps("auto")
    assert "states" not in memory.tensors and "next_states" not in memory.tensors
    stored = memory.get_tensor_by_name("frames")
    assert stored.dtype == torch.uint8
    assert torch.equal(stored[3], frames(3).reshape(NUM_ENVS, -1))
    # these next states never follow as states (random frames): each is kept exactly all the same
    batch = agent._frame_replays[0].gather(agent.schema.names, torch.arange(4 * NUM_ENVS))
    for timestep in range(4):
        rows = slice(timestep * NUM_ENVS, (timestep + 1) * NUM_ENVS)
        assert torch.equal(batch.states[rows], frames(timestep).reshape(NUM_ENVS, -1))
        assert torch.equal(batch.next_states[rows], frames(timestep + 100).reshape(NUM_ENVS, -1))


@pytest.mark.parametrize("learning_starts", [0, 100])
def test_sac_acts_and_learns_from_image_states(learning_starts):
    actions = spaces.Box(-1.0, 1.0, (2,))
    policy = gaussian_model(FRAMES, actions, "cpu", encoder=ENCODER, hiddens=[])

    def critic():
        return deterministic_model(
            FRAMES,
            actions,
            "cpu",
            encoder=ENCODER,
            input_shape="STATES_ACTIONS",
            hiddens=[8],
            output_shape="ONE",
            output_activation=None,
        )

    roles = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    models = {"policy": policy, **{role: critic() for role in roles}}
    memory = RandomMemory(8, NUM_ENVS, device="cpu")
    cfg = {"learning_starts": learning_starts, "batch_size": 4, **NO_LOGS}
    agent = SAC(models, memory, FRAMES, actions, "cpu", cfg)
    agent.init()
    for timestep in range(3):
        step(agent, timestep)
        agent.post_interaction(timestep, 10)
    assert memory.get_tensor_by_name("frames").dtype == torch.uint8
