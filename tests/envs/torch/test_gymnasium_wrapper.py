"""GymnasiumWrapper: shapes, dtypes, actions, and the vector autoreset contract."""

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from rlblocks.envs.torch import Wrapper, wrap_env
from tests.helpers.envs import CounterEnv, DictObservationEnv, make_counter_env

AUTORESET_MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED]


def check_step_output(output, num_envs, width, state_dtype=torch.float32):
    next_states, rewards, terminated, truncated, _ = output
    assert next_states.shape == (num_envs, width) and next_states.dtype == state_dtype
    assert rewards.shape == (num_envs, 1) and rewards.dtype == torch.float32
    assert terminated.shape == (num_envs, 1) and terminated.dtype == torch.bool
    assert truncated.shape == (num_envs, 1) and truncated.dtype == torch.bool


# --- single envs ---------------------------------------------------------------------------


def test_cartpole_single_env_shapes_and_dtypes():
    env = wrap_env(gymnasium.make("CartPole-v1"), verbose=False)
    states, infos = env.reset()
    assert env.num_envs == 1 and env.device == torch.device("cpu")
    assert states.shape == (1, 4) and states.dtype == torch.float32 and isinstance(infos, dict)
    assert env.observation_space == env.state_space == gymnasium.make("CartPole-v1").observation_space
    check_step_output(env.step(torch.tensor([[1]])), 1, 4)


def test_pendulum_single_env_shapes_and_dtypes():
    env = wrap_env(gymnasium.make("Pendulum-v1"), verbose=False)
    states, _ = env.reset()
    assert states.shape == (1, 3) and states.dtype == torch.float32
    check_step_output(env.step(torch.tensor([[0.5]])), 1, 3)


def test_pendulum_box_action_reaches_the_env_as_float32_array_of_the_space_shape():
    seen = []

    class Spy(gymnasium.Wrapper):
        def step(self, action):
            seen.append(action)
            return super().step(action)

    env = wrap_env(Spy(gymnasium.make("Pendulum-v1")), verbose=False)
    env.reset()
    env.step(torch.tensor([[0.25]]))
    assert seen[0].dtype == np.float32 and seen[0].shape == (1,) and seen[0][0] == 0.25


def test_discrete_observation_is_an_int64_index_column():
    env = wrap_env(gymnasium.make("FrozenLake-v1", is_slippery=False), verbose=False)
    states, _ = env.reset()
    assert states.dtype == torch.int64 and states.tolist() == [[0]]
    next_states, *_ = env.step(torch.tensor([[2]]))  # right: cell 0 -> cell 1
    assert next_states.dtype == torch.int64 and next_states.tolist() == [[1]]


def test_dict_observation_is_flattened_in_sorted_key_order():
    env = wrap_env(DictObservationEnv(), verbose=False)
    states, _ = env.reset()
    assert states.tolist() == [[0.0, 0.0, 0.0]]
    next_states, rewards, *_ = env.step(torch.tensor([[0.5, 0.25]]))
    assert next_states.tolist() == [[1.0, 1.0, -1.0]]  # mode, position[0], position[1]
    assert rewards.tolist() == [[0.75]]


def test_single_env_reset_really_resets():
    env = wrap_env(CounterEnv(max_steps=3), verbose=False)
    env.reset()
    env.step(torch.tensor([[1]]))
    states, infos = env.reset()
    assert states.tolist() == [[0.0]] and infos == {"count": 0} and env.unwrapped.num_resets == 2


def test_single_env_reports_terminated_and_truncated_separately():
    env = wrap_env(CounterEnv(max_steps=2), verbose=False)
    env.reset()
    _, _, terminated, truncated, _ = env.step(torch.tensor([[1]]))
    assert not terminated.item() and not truncated.item()
    next_states, _, terminated, truncated, _ = env.step(torch.tensor([[1]]))
    assert next_states.tolist() == [[2.0]] and not terminated.item() and truncated.item()
    env = wrap_env(CounterEnv(max_steps=5, terminate_at=1), verbose=False)
    env.reset()
    _, _, terminated, truncated, _ = env.step(torch.tensor([[0]]))
    assert terminated.item() and not truncated.item()


def test_states_do_not_alias_the_array_the_env_returned():
    class Reuses(CounterEnv):
        def __init__(self):
            super().__init__()
            self.buffer = np.zeros(1, dtype=np.float32)

        def _observation(self):
            self.buffer[0] = self.count
            return self.buffer

    env = wrap_env(Reuses(), verbose=False)
    states, _ = env.reset()
    env.step(torch.tensor([[1]]))
    assert states.tolist() == [[0.0]]


def test_wrong_action_shape_names_the_expected_shape():
    env = wrap_env(gymnasium.make("Pendulum-v1"), verbose=False)
    env.reset()
    with pytest.raises(ValueError, match=r"should be \(num_envs, 1\) = \(1, 1\), got \(2, 1\)"):
        env.step(torch.zeros(2, 1))


# --- vector envs: shapes -------------------------------------------------------------------


@pytest.mark.parametrize("vector_class", [SyncVectorEnv, AsyncVectorEnv])
def test_vector_cartpole_shapes_and_single_env_spaces(vector_class):
    env = wrap_env(vector_class([lambda: gymnasium.make("CartPole-v1")] * 3), verbose=False)
    try:
        assert env.num_envs == 3
        assert env.observation_space == gymnasium.make("CartPole-v1").observation_space
        assert env.action_space == gymnasium.spaces.Discrete(2)
        states, _ = env.reset()
        assert states.shape == (3, 4) and states.dtype == torch.float32
        check_step_output(env.step(torch.tensor([[0], [1], [1]])), 3, 4)
    finally:
        env.close()


def test_make_vec_pendulum_shapes():
    env = wrap_env(gymnasium.make_vec("Pendulum-v1", num_envs=2), verbose=False)
    states, _ = env.reset()
    assert states.shape == (2, 3) and env.action_space.shape == (1,)
    check_step_output(env.step(torch.zeros(2, 1)), 2, 3)


def test_vector_frozenlake_observations_are_int64():
    env = wrap_env(
        SyncVectorEnv([lambda: gymnasium.make("FrozenLake-v1", is_slippery=False)] * 2), verbose=False
    )
    states, _ = env.reset()
    assert states.dtype == torch.int64 and states.tolist() == [[0], [0]]
    next_states, *_ = env.step(torch.tensor([[2], [1]]))  # right -> 1, down -> 4
    assert next_states.dtype == torch.int64 and next_states.tolist() == [[1], [4]]


def test_vector_dict_observation_env():
    env = wrap_env(SyncVectorEnv([DictObservationEnv] * 2), verbose=False)
    env.reset()
    next_states, rewards, *_ = env.step(torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
    assert next_states.tolist() == [[1.0, 1.0, -1.0]] * 2 and rewards.tolist() == [[1.0], [-1.0]]


def test_vector_discrete_actions_reach_each_sub_env():
    env = wrap_env(SyncVectorEnv([make_counter_env(5)] * 3), verbose=False)
    env.reset()
    _, rewards, *_ = env.step(torch.tensor([[1], [0], [1]]))
    assert rewards.tolist() == [[1.0], [0.0], [1.0]]


def test_vector_wrong_action_shape():
    env = wrap_env(SyncVectorEnv([make_counter_env(5)] * 3), verbose=False)
    env.reset()
    with pytest.raises(ValueError, match=r"should be \(num_envs, 1\) = \(3, 1\), got \(1, 3\)"):
        env.step(torch.tensor([[1, 0, 1]]))


# --- vector envs: the autoreset contract ---------------------------------------------------

EPISODE_ENDS = {0: ("truncated", 2), 1: ("truncated", 3), 2: ("terminated", 4)}
"""Sub-env i ends its episode every `length` steps, flagged as terminated or truncated."""


def counter_vector_env(vector_class, mode):
    factories = [make_counter_env(2), make_counter_env(3), make_counter_env(max_steps=10, terminate_at=4)]
    return vector_class(factories, autoreset_mode=mode)


@pytest.mark.parametrize("vector_class", [SyncVectorEnv, AsyncVectorEnv])
@pytest.mark.parametrize("mode", AUTORESET_MODES, ids=lambda mode: mode.name)
def test_autoreset_gives_only_real_transitions_and_true_final_observations(vector_class, mode):
    """Every returned transition is real (next = state + 1, reward = the action 1), an ended
    episode's next_states is its final count, and the states after reset() are the reset obs."""
    env = wrap_env(counter_vector_env(vector_class, mode), verbose=False)
    try:
        states, _ = env.reset()
        assert states.tolist() == [[0.0]] * 3
        episodes_ended = [0, 0, 0]
        for step in range(1, 13):
            next_states, rewards, terminated, truncated, _ = env.step(torch.ones(3, 1, dtype=torch.int64))
            assert torch.equal(next_states, states + 1), f"fake transition at step {step}"
            assert rewards.tolist() == [[1.0]] * 3
            for index, (flag, length) in EPISODE_ENDS.items():
                ends_now = step % length == 0
                assert terminated[index].item() == (ends_now and flag == "terminated")
                assert truncated[index].item() == (ends_now and flag == "truncated")
                if ends_now:
                    assert next_states[index].item() == length  # the true final observation
                    episodes_ended[index] += 1
            done = (terminated | truncated).reshape(-1)
            states = env.reset()[0] if done.any() else next_states
            expected = torch.where(done.reshape(-1, 1), torch.zeros_like(next_states), next_states)
            assert torch.equal(states, expected)
        # each sub-env was reset once at the start and once per ended episode: no hidden resets
        assert list(env.get_attr("num_resets")) == [1 + ended for ended in episodes_ended]
    finally:
        env.close()


@pytest.mark.parametrize("mode", AUTORESET_MODES, ids=lambda mode: mode.name)
def test_second_reset_before_a_step_returns_the_cached_initial_observations(mode):
    env = wrap_env(counter_vector_env(SyncVectorEnv, mode), verbose=False)
    first_states, first_infos = env.reset()
    second_states, second_infos = env.reset()
    assert second_states is not None and torch.equal(second_states, first_states)
    assert second_infos is first_infos
    assert list(env.get_attr("num_resets")) == [1, 1, 1]


def test_reset_infos_of_a_partial_reset_come_with_reset():
    env = wrap_env(counter_vector_env(SyncVectorEnv, AutoresetMode.NEXT_STEP), verbose=False)
    env.reset()
    env.step(torch.ones(3, 1, dtype=torch.int64))
    _, _, _, truncated, step_infos = env.step(torch.ones(3, 1, dtype=torch.int64))
    assert truncated.reshape(-1).tolist() == [True, False, False]
    assert step_infos["count"].tolist() == [2, 2, 2]  # the step's own infos, final count included
    _, reset_infos = env.reset()
    assert reset_infos["count"].tolist()[0] == 0 and reset_infos["_count"].tolist() == [True, False, False]


def test_same_step_mode_infos_keep_gymnasium_final_obs():
    env = wrap_env(counter_vector_env(SyncVectorEnv, AutoresetMode.SAME_STEP), verbose=False)
    env.reset()
    env.step(torch.ones(3, 1, dtype=torch.int64))
    *_, infos = env.step(torch.ones(3, 1, dtype=torch.int64))
    assert infos["_final_obs"].tolist() == [True, False, False]


def test_vector_wrapper_chain_is_supported():
    vector_env = counter_vector_env(SyncVectorEnv, AutoresetMode.NEXT_STEP)
    vector_env = gymnasium.wrappers.vector.RecordEpisodeStatistics(vector_env)
    env = wrap_env(vector_env, verbose=False)
    states, _ = env.reset()
    for _ in range(2):
        next_states, _, terminated, truncated, infos = env.step(torch.ones(3, 1, dtype=torch.int64))
        assert torch.equal(next_states, states + 1)
        states = env.reset()[0] if (terminated | truncated).any() else next_states
    assert infos["episode"]["r"].tolist()[0] == 2.0 and infos["_episode"].tolist() == [True, False, False]


def test_cartpole_make_vec_default_vector_env_is_rejected_with_a_fix():
    with pytest.raises(ValueError, match='vectorization_mode="sync"'):
        wrap_env(gymnasium.make_vec("CartPole-v1", num_envs=2), verbose=False)


def test_cartpole_make_vec_sync_is_accepted():
    env = wrap_env(gymnasium.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    assert env.reset()[0].shape == (2, 4)


def test_async_without_shared_memory_in_next_step_mode_is_rejected():
    vector_env = AsyncVectorEnv([make_counter_env(2)] * 2, shared_memory=False)
    try:
        with pytest.raises(ValueError, match=r"shared_memory=True \(the default\)"):
            wrap_env(vector_env, verbose=False)
    finally:
        vector_env.close()


def test_async_without_shared_memory_in_same_step_mode_works():
    vector_env = AsyncVectorEnv(
        [make_counter_env(2)] * 2, shared_memory=False, autoreset_mode=AutoresetMode.SAME_STEP
    )
    env = wrap_env(vector_env, verbose=False)
    try:
        states, _ = env.reset()
        for _ in range(3):
            next_states, _, terminated, truncated, _ = env.step(torch.ones(2, 1, dtype=torch.int64))
            assert torch.equal(next_states, states + 1)
            states = env.reset()[0] if (terminated | truncated).any() else next_states
    finally:
        env.close()


def test_wrapper_is_a_wrapper_instance():
    assert isinstance(wrap_env(CounterEnv(), verbose=False), Wrapper)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_and_autoreset():
    env = wrap_env(counter_vector_env(SyncVectorEnv, AutoresetMode.NEXT_STEP), verbose=False, device="cuda")
    states, _ = env.reset()
    assert states.device.type == "cuda"
    for _ in range(5):
        next_states, rewards, terminated, truncated, _ = env.step(
            torch.ones(3, 1, dtype=torch.int64, device="cuda")
        )
        assert all(tensor.device.type == "cuda" for tensor in (next_states, rewards, terminated, truncated))
        assert torch.equal(next_states, states + 1)
        states = env.reset()[0] if (terminated | truncated).any() else next_states


@pytest.mark.parametrize("mode", AUTORESET_MODES, ids=lambda mode: mode.name)
def test_dict_observation_final_observation_in_every_mode(mode):
    env = wrap_env(
        SyncVectorEnv([lambda: DictObservationEnv(max_steps=2)] * 2, autoreset_mode=mode), verbose=False
    )
    env.reset()
    env.step(torch.zeros(2, 2))
    next_states, _, _, truncated, _ = env.step(torch.zeros(2, 2))
    assert truncated.reshape(-1).tolist() == [True, True]
    assert next_states.tolist() == [[2.0, 2.0, -2.0]] * 2  # the final observation, t = 2
    assert env.reset()[0].tolist() == [[0.0, 0.0, 0.0]] * 2
