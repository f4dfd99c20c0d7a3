"""`TorchVectorWrapper`: wrap_env detection, the autoreset contract, no copies, no host syncs."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.envs.torch import Wrapper, wrap_env
from rlblocks.envs.torch.batched import CartPole, Pendulum
from rlblocks.envs.torch.wrappers import WRAPPERS, TorchVectorWrapper


class RecordingCartPole(CartPole):
    """CartPole that keeps what it received and returned, to compare tensors by identity."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received_actions, self.returned, self.num_resets = [], [], 0

    def reset(self, **kwargs):
        self.num_resets += 1
        self.returned.append(super().reset(**kwargs))
        return self.returned[-1]

    def step(self, actions):
        self.received_actions.append(actions)
        self.returned.append(super().step(actions))
        return self.returned[-1]


class PartialFinalObsEnv:
    """A torch vector env that is no BatchedVectorEnv: final_obs rows valid only where masked.

    Each env's observation is its step count within the episode; episodes last `length` steps;
    the rows of `final_obs` for envs that did not end are garbage (-1), as gymnasium allows.
    """

    def __init__(self, num_envs=3, length=2, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP):
        self.num_envs, self.length = num_envs, length
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.metadata = {"autoreset_mode": autoreset_mode}
        self.counts = torch.zeros(num_envs)

    def reset(self, seed=None, options=None):
        self.counts = torch.zeros(self.num_envs)
        return self.counts.view(-1, 1).clone(), {}

    def step(self, actions):
        reached = self.counts + 1
        ended = reached >= torch.arange(1, self.num_envs + 1) * self.length
        self.counts = torch.where(ended, 0.0, reached)
        final = torch.where(ended, reached, -1.0).view(-1, 1)
        infos = {"final_obs": final, "_final_obs": ended}
        zeros = torch.zeros(self.num_envs, dtype=torch.bool)
        return (
            self.counts.view(-1, 1).clone(),
            torch.ones(self.num_envs, dtype=torch.float64),
            ended,
            zeros,
            infos,
        )

    def close(self):
        pass


# ---------------------------------------------------------------------- detection
@pytest.mark.parametrize("env_class", [CartPole, Pendulum])
def test_wrap_env_detects_batched_envs(env_class):
    wrapped = wrap_env(env_class(4), verbose=False)
    assert type(wrapped) is TorchVectorWrapper
    assert isinstance(wrapped, Wrapper)
    assert wrapped.num_envs == 4
    assert wrapped.observation_space == wrapped.env.single_observation_space
    assert wrapped.action_space == wrapped.env.single_action_space
    assert wrapped.device == torch.device("cpu")


def test_wrap_env_detects_a_batched_env_inside_gymnasium_vector_wrappers():
    env = gym.vector.VectorWrapper(CartPole(2))
    assert type(wrap_env(env, verbose=False)) is TorchVectorWrapper


def test_the_torch_tag_wraps_any_torch_vector_env_and_auto_leaves_unknown_ones_alone():
    assert WRAPPERS["torch"] is TorchVectorWrapper
    assert type(wrap_env(PartialFinalObsEnv(), wrapper="torch", verbose=False)) is TorchVectorWrapper
    with pytest.raises(ValueError, match='cannot tell which wrapper fits PartialFinalObsEnv.*"torch"'):
        wrap_env(PartialFinalObsEnv(), verbose=False)


def test_gymnasium_numpy_vector_envs_still_get_the_gymnasium_wrapper():
    env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    assert type(wrap_env(env, verbose=False)).__name__ == "GymnasiumWrapper"


@pytest.mark.parametrize("mode", [gym.vector.AutoresetMode.NEXT_STEP, gym.vector.AutoresetMode.DISABLED])
def test_envs_that_do_not_reset_in_the_same_step_are_refused(mode):
    with pytest.raises(ValueError, match=r"needs envs that reset in the step that ends an episode"):
        wrap_env(PartialFinalObsEnv(autoreset_mode=mode), wrapper="torch", verbose=False)


def test_a_numpy_env_under_the_torch_tag_says_which_wrapper_to_use():
    env = gym.make_vec(
        "CartPole-v1", num_envs=2, vectorization_mode="sync", vector_kwargs={"autoreset_mode": "SameStep"}
    )
    wrapped = wrap_env(env, wrapper="torch", verbose=False)
    with pytest.raises(
        TypeError, match=r'returned a ndarray; TorchVectorWrapper expects torch tensors.*wrapper="gymnasium"'
    ):
        wrapped.reset()


# ---------------------------------------------------------------------- copies nothing
def test_reset_returns_the_env_observations_themselves():
    env = RecordingCartPole(4, seed=0)
    wrapped = wrap_env(env, verbose=False)
    states, _ = wrapped.reset()
    assert states is env.returned[-1][0]
    assert states.shape == (4, 4)
    assert states.dtype == torch.float32


def test_step_outputs_are_views_of_the_env_tensors_and_actions_reach_the_env_uncopied():
    env = RecordingCartPole(4, max_episode_steps=3, seed=0)
    wrapped = wrap_env(env, verbose=False)
    wrapped.reset()
    for _ in range(5):
        actions = torch.ones(4, 1, dtype=torch.int64)
        next_states, rewards, terminated, truncated, infos = wrapped.step(actions)
        observations, env_rewards, env_terminated, env_truncated, env_infos = env.returned[-1]

        assert env.received_actions[-1].data_ptr() == actions.data_ptr()
        assert env.received_actions[-1].shape == (4,)
        assert next_states is env_infos["final_obs"]
        assert infos is env_infos
        assert rewards.data_ptr() == env_rewards.data_ptr()
        assert terminated.data_ptr() == env_terminated.data_ptr()
        assert truncated.data_ptr() == env_truncated.data_ptr()
        assert wrapped.reset()[0] is observations
    assert (rewards.shape, terminated.shape, truncated.shape) == ((4, 1), (4, 1), (4, 1))
    assert (rewards.dtype, terminated.dtype, truncated.dtype) == (torch.float32, torch.bool, torch.bool)


def test_pendulum_actions_and_outputs_keep_their_shapes_without_copies():
    env = Pendulum(3, seed=0)
    wrapped = wrap_env(env, verbose=False)
    wrapped.reset()
    actions = torch.zeros(3, 1)
    next_states, rewards, *_ = wrapped.step(actions)
    assert next_states.shape == (3, 3)
    assert rewards.shape == (3, 1)


# ---------------------------------------------------------------------- autoreset contract
def test_next_states_hold_final_observations_and_reset_returns_the_reset_ones_without_resetting():
    env = RecordingCartPole(2, seed=0)
    wrapped = wrap_env(env, verbose=False)
    wrapped.reset()
    env.reset(options={"state": torch.tensor([[2.39, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])})
    resets = env.num_resets

    next_states, _, terminated, _, _ = wrapped.step(torch.ones(2, 1, dtype=torch.int64))
    to_act_on, _ = wrapped.reset()

    assert terminated.view(-1).tolist() == [True, False]
    assert next_states[0, 0] > 2.4  # the cart left the track: the true final observation
    assert to_act_on[0].abs().max() <= 0.05  # the reset observation
    assert torch.equal(to_act_on[1], next_states[1])
    assert torch.equal(to_act_on, env.state.to(torch.float32))
    assert env.num_resets == resets


def test_trainer_loop_sees_whole_episodes_with_per_env_lengths():
    """The trainer's `states = env.reset()[0] if done.any() else next_states`: each env's episode
    counter restarts after its end, and every recorded `states` row continues from `next_states`."""
    wrapped = wrap_env(CartPole(6, max_episode_steps=30, seed=0), verbose=False)
    states, _ = wrapped.reset()
    lengths, current = [], torch.zeros(6, dtype=torch.int64)
    for _ in range(200):
        next_states, _, terminated, truncated, _ = wrapped.step(torch.randint(0, 2, (6, 1)))
        current += 1
        ended = (terminated | truncated).view(-1)
        lengths += current[ended].tolist()
        current[ended] = 0
        assert torch.equal(current, wrapped.env.elapsed_steps)
        states = wrapped.reset()[0] if ended.any() else next_states
        assert torch.equal(states[~ended], next_states[~ended])
    assert lengths
    assert max(lengths) == 30
    assert min(lengths) < 30


def test_final_observations_of_other_envs_are_taken_only_where_masked():
    wrapped = wrap_env(PartialFinalObsEnv(num_envs=3, length=2), wrapper="torch", verbose=False)
    assert wrapped.reset()[0].view(-1).tolist() == [0.0, 0.0, 0.0]
    first = wrapped.step(torch.zeros(3, 1))
    second = wrapped.step(torch.zeros(3, 1))

    assert first[0].view(-1).tolist() == [1.0, 1.0, 1.0]
    assert second[0].view(-1).tolist() == [2.0, 2.0, 2.0]  # env 0 ended: its final obs, not -1
    assert second[2].view(-1).tolist() == [True, False, False]
    assert wrapped.reset()[0].view(-1).tolist() == [0.0, 2.0, 2.0]
    assert second[1].dtype == torch.float32  # float64 rewards converted


def test_any_episode_ended_is_unknown_on_the_host():
    wrapped = wrap_env(CartPole(2, max_episode_steps=1), verbose=False)
    assert wrapped.any_episode_ended is None
    wrapped.reset()
    wrapped.step(torch.zeros(2, 1, dtype=torch.int64))
    assert wrapped.any_episode_ended is None


# ---------------------------------------------------------------------- errors
def test_wrong_action_shape_names_the_shape_received_and_expected():
    wrapped = wrap_env(CartPole(4), verbose=False)
    wrapped.reset()
    with pytest.raises(ValueError, match=r"should be \(num_envs, 1\) = \(4, 1\), got \(3, 1\)"):
        wrapped.step(torch.zeros(3, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"got \(4, 2\)"):
        wrapped.step(torch.zeros(4, 2, dtype=torch.int64))


def test_an_env_without_num_envs_is_refused():
    with pytest.raises(ValueError, match="wraps vector envs"):
        TorchVectorWrapper(object())


# ---------------------------------------------------------------------- hot path
SYNCING_METHODS = (
    "item",
    "tolist",
    "cpu",
    "numpy",
    "nonzero",
    "__bool__",
    "__int__",
    "__float__",
    "__index__",
)


@pytest.mark.parametrize("env_class", [CartPole, Pendulum])
def test_the_hot_path_makes_no_host_device_sync_call(env_class, monkeypatch):
    """Counted on CPU: the calls that would wait for a GPU stream, over steps that end episodes."""
    wrapped = wrap_env(env_class(8, max_episode_steps=3, seed=0), verbose=False)
    actions = torch.zeros(8, 1, dtype=torch.int64 if env_class is CartPole else torch.float32)
    wrapped.reset()
    calls = []
    for name in SYNCING_METHODS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    for _ in range(7):
        wrapped.step(actions)
        wrapped.reset()
    monkeypatch.undo()
    assert calls == []


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("env_class", [CartPole, Pendulum])
def test_the_hot_path_never_syncs_on_a_gpu(env_class):
    wrapped = wrap_env(env_class(4096, max_episode_steps=5, device="cuda", seed=0), verbose=False)
    actions = torch.zeros(
        4096, 1, device="cuda", dtype=torch.int64 if env_class is CartPole else torch.float32
    )
    wrapped.reset()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(12):
            next_states, rewards, terminated, truncated, _ = wrapped.step(actions)
            wrapped.reset()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert next_states.device.type == rewards.device.type == terminated.device.type == "cuda"
    assert truncated.any().item()
