"""Batched torch CartPole and Pendulum against gymnasium, step for step, and their autoreset rules.

Parity: each batched env row starts from the state of a seeded gymnasium env; both get the same
actions. When a row's episode ends, the batched env restarts it from a fresh random state (read
from `env.state`) and the gymnasium env is reset and given that state, so several consecutive
episodes are compared, with their step counters.
"""

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.envs.torch.batched import BatchedVectorEnv, CartPole, Pendulum

ATOL = 1e-5


class GymnasiumReference:
    """`num_envs` gymnasium envs of `env_id`, kept on the batched env's episodes."""

    def __init__(self, env_id, num_envs, max_episode_steps=None):
        kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
        self.envs = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
        for index, env in enumerate(self.envs):
            env.reset(seed=index)

    def states(self):
        return torch.as_tensor(np.stack([env.unwrapped.state for env in self.envs]))

    def step(self, actions):
        results = [env.step(action) for env, action in zip(self.envs, actions)]
        observations, rewards, terminated, truncated, _ = zip(*results)
        return np.stack(observations), np.array(rewards), np.array(terminated), np.array(truncated)

    def restart(self, index, state):
        """Reset env `index` (its TimeLimit counter too) and put it in `state` (float64)."""
        self.envs[index].reset()
        self.envs[index].unwrapped.state = np.array(state, dtype=np.float64)


def cartpole_actions(observations, generator, noise):
    """A balancing controller with per-env probability `noise` of the opposite push."""
    x, x_dot, theta, theta_dot = observations.unbind(1)
    push_right = (theta + 0.5 * theta_dot + 0.05 * x + 0.1 * x_dot) > 0
    flip = torch.rand(len(observations), generator=generator) < noise
    return (push_right ^ flip).to(torch.int64)


def run_parity(env, reference, actions_for, steps, resync=False):
    """Step both for `steps` steps; returns the number of ended episodes (terminated, truncated).

    With `resync`, the reference is put back in the batched env's state after every step, and the
    float64 states are compared too: then every step starts from the same state.
    """
    observations, _ = env.reset(options={"state": reference.states()})
    counts = np.zeros(2, dtype=int)
    for step in range(steps):
        actions = actions_for(observations)
        observations, rewards, terminated, truncated, infos = env.step(actions)
        expected = reference.step(actions.numpy())
        message = f"step {step}"
        if resync:
            going_on = ~infos["_final_obs"]
            np.testing.assert_allclose(
                env.state[going_on].numpy(), reference.states()[going_on].numpy(), atol=1e-12, rtol=0
            )
            for index, state in enumerate(env.state.numpy()):
                reference.envs[index].unwrapped.state = state.copy()
        np.testing.assert_allclose(
            infos["final_obs"].numpy(), expected[0], atol=ATOL, rtol=0, err_msg=message
        )
        np.testing.assert_allclose(rewards.numpy(), expected[1], atol=ATOL, rtol=0, err_msg=message)
        np.testing.assert_array_equal(terminated.numpy(), expected[2], err_msg=message)
        np.testing.assert_array_equal(truncated.numpy(), expected[3], err_msg=message)
        ended = (terminated | truncated).numpy()
        counts += [int(expected[2].sum()), int(expected[3].sum())]
        for index in np.flatnonzero(ended):
            reference.restart(index, env.state[index].numpy())
        np.testing.assert_array_equal(env.elapsed_steps.numpy()[ended], 0)
    return counts


def test_cartpole_matches_gymnasium_over_terminations_and_the_500_step_truncation():
    """600 steps: the first episodes of all envs, the steadiest ones truncated at 500 steps.

    Longer balancing episodes drift apart: torch's vectorised sin/cos can differ from numpy's in
    the last bit, and the bang-bang controller amplifies that by ~2% a step (see the next test).
    """
    num_envs = 24
    env = CartPole(num_envs, seed=0)
    reference = GymnasiumReference("CartPole-v1", num_envs)
    generator = torch.Generator().manual_seed(0)
    noise = torch.linspace(0.0, 0.6, num_envs)  # from balancing for 500 steps to falling quickly

    terminations, truncations = run_parity(
        env, reference, lambda obs: cartpole_actions(obs, generator, noise), steps=600
    )

    assert terminations > 50
    assert truncations >= 3


def test_cartpole_steps_like_gymnasium_from_the_same_float64_state_for_thousands_of_steps():
    num_envs = 24
    env = CartPole(num_envs, seed=0)
    reference = GymnasiumReference("CartPole-v1", num_envs)
    generator = torch.Generator().manual_seed(0)
    noise = torch.linspace(0.0, 0.6, num_envs)

    terminations, truncations = run_parity(
        env, reference, lambda obs: cartpole_actions(obs, generator, noise), steps=2000, resync=True
    )

    assert terminations > 100
    assert truncations >= 12


def test_cartpole_matches_gymnasium_with_a_short_time_limit_and_random_actions():
    num_envs = 16
    env = CartPole(num_envs, max_episode_steps=20, seed=1)
    reference = GymnasiumReference("CartPole-v1", num_envs, max_episode_steps=20)
    generator = torch.Generator().manual_seed(1)

    counts = run_parity(
        env, reference, lambda obs: torch.randint(0, 2, (num_envs,), generator=generator), steps=200
    )

    assert counts[0] > 0
    assert counts[1] > 0


def test_cartpole_terminated_and_truncated_on_the_same_step_like_gymnasium_time_limit():
    env = CartPole(2, max_episode_steps=1)
    reference = GymnasiumReference("CartPole-v1", 2, max_episode_steps=1)
    leaving = [[2.39, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    for index, state in enumerate(leaving):
        reference.restart(index, state)
    env.reset(options={"state": torch.tensor(leaving)})

    _, _, terminated, truncated, _ = env.step(torch.tensor([1, 1]))
    _, _, expected_terminated, expected_truncated = reference.step([1, 1])

    assert terminated.tolist() == expected_terminated.tolist() == [True, False]
    assert truncated.tolist() == expected_truncated.tolist() == [True, True]


def test_pendulum_matches_gymnasium_over_two_200_step_truncations_with_clipped_torques():
    num_envs = 16
    env = Pendulum(num_envs, seed=0)
    reference = GymnasiumReference("Pendulum-v1", num_envs)
    generator = torch.Generator().manual_seed(0)

    def torques(_):  # beyond [-2, 2], so the clipping is compared too
        return (torch.rand(num_envs, 1, generator=generator) * 5.0 - 2.5).to(torch.float32)

    terminations, truncations = run_parity(env, reference, torques, steps=450)

    assert (terminations, truncations) == (0, 2 * num_envs)


def test_pendulum_observation_is_cos_sin_and_angular_velocity_of_the_state():
    env = Pendulum(3)
    states = torch.tensor([[0.0, 0.5], [np.pi / 2, -1.0], [np.pi, 8.0]], dtype=torch.float64)

    observations, _ = env.reset(options={"state": states})

    expected = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, -1.0], [-1.0, 0.0, 8.0]])
    torch.testing.assert_close(observations, expected, atol=1e-7, rtol=0)
    assert observations.dtype == torch.float32


# ---------------------------------------------------------------------- autoreset
def test_step_returns_reset_observations_and_the_final_ones_in_infos():
    env = CartPole(3, max_episode_steps=2, seed=0)
    env.reset()
    env.step(torch.tensor([0, 1, 0]))

    observations, _, _, truncated, infos = env.step(torch.tensor([0, 1, 0]))
    reached_states = infos["final_obs"]

    assert truncated.tolist() == [True, True, True]
    assert infos["_final_obs"].tolist() == [True, True, True]
    torch.testing.assert_close(observations, env.state.to(torch.float32), atol=0, rtol=0)
    assert (observations.abs() <= 0.05).all()  # fresh initial states
    assert not torch.equal(reached_states, observations)
    assert env.elapsed_steps.tolist() == [0, 0, 0]


def test_final_obs_of_envs_that_did_not_end_equal_their_observations():
    env = CartPole(2, seed=0)
    env.reset(options={"state": torch.tensor([[2.39, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])})

    observations, _, terminated, _, infos = env.step(torch.tensor([1, 1]))

    assert terminated.tolist() == [True, False]
    assert infos["_final_obs"].tolist() == [True, False]
    assert torch.equal(infos["final_obs"][1], observations[1])
    assert infos["final_obs"][0, 0] > 2.4
    assert observations[0].abs().max() <= 0.05


def test_each_env_counts_its_own_episode_steps_and_restarts_at_zero():
    env = CartPole(2, max_episode_steps=500, seed=0)
    env.reset(options={"state": torch.tensor([[2.39, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])})
    env.step(torch.tensor([1, 0]))
    assert env.elapsed_steps.tolist() == [0, 1]
    env.step(torch.tensor([1, 0]))
    assert env.elapsed_steps.tolist() == [1, 2]


def test_truncation_comes_every_max_episode_steps_steps_and_never_without_a_limit():
    limited, unlimited = Pendulum(2, max_episode_steps=3, seed=0), Pendulum(2, max_episode_steps=None, seed=0)
    limited.reset()
    unlimited.reset()
    truncated_steps = []
    for step in range(1, 10):
        _, _, _, truncated, _ = limited.step(torch.zeros(2, 1))
        if truncated.all():
            truncated_steps.append(step)
        assert not unlimited.step(torch.zeros(2, 1))[3].any()
    assert truncated_steps == [3, 6, 9]


def test_returned_tensors_are_never_written_again():
    env = CartPole(4, max_episode_steps=2, seed=0)
    observations, _ = env.reset()
    kept = [observations.clone()]
    outputs = [observations]
    for _ in range(4):
        step = env.step(torch.ones(4, dtype=torch.int64))
        outputs.append(step[0])
        kept.append(step[0].clone())
    for output, copy in zip(outputs, kept):
        assert torch.equal(output, copy)


# ---------------------------------------------------------------------- seeding, reset options
def test_one_seed_gives_the_same_trajectories_and_resets():
    def trajectory(seed):
        env = CartPole(8, max_episode_steps=7, seed=seed)
        observations = [env.reset()[0]]
        for _ in range(20):
            observations.append(env.step(torch.zeros(8, dtype=torch.int64))[0])
        return torch.stack(observations)

    assert torch.equal(trajectory(3), trajectory(3))
    assert not torch.equal(trajectory(3), trajectory(4))


def test_reset_seed_reseeds_the_generator_and_none_continues_it():
    first, second = Pendulum(5, seed=0), Pendulum(5, seed=1)
    seeded = first.reset(seed=42)[0]
    assert torch.equal(seeded, second.reset(seed=42)[0])
    assert not torch.equal(seeded, first.reset()[0])


def test_initial_states_are_uniform_in_gymnasium_bounds():
    cartpole_states = CartPole(4096, seed=0)
    cartpole_states.reset()
    states = cartpole_states.state
    assert states.abs().max() < 0.05
    assert states.min() < -0.049
    assert states.max() > 0.049
    pendulum = Pendulum(4096, seed=0)
    pendulum.reset()
    theta, theta_dot = pendulum.state.unbind(1)
    assert theta.abs().max() <= np.pi
    assert theta.abs().max() > 3.1
    assert theta_dot.abs().max() <= 1.0
    assert theta_dot.abs().max() > 0.99


def test_reset_mask_resets_only_the_masked_envs():
    env = CartPole(3, seed=0)
    states = torch.tensor([[1.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    env.reset(options={"state": states})
    env.step(torch.zeros(3, dtype=torch.int64))
    before = env.state.clone()

    env.reset(options={"reset_mask": torch.tensor([False, True, False])})

    assert torch.equal(env.state[[0, 2]], before[[0, 2]])
    assert env.state[1].abs().max() < 0.05
    assert env.elapsed_steps.tolist() == [1, 0, 1]


def test_state_option_with_a_mask_sets_only_the_masked_rows():
    env = CartPole(2, seed=0)
    env.reset()
    before = env.state.clone()

    env.reset(options={"state": torch.ones(2, 4), "reset_mask": torch.tensor([True, False])})

    assert env.state[0].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert torch.equal(env.state[1], before[1])


@pytest.mark.parametrize("env_class", [CartPole, Pendulum])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_physics_dtype_is_the_state_dtype_and_outputs_stay_float32(env_class, dtype):
    env = env_class(4, dtype=dtype, seed=0)
    observations, _ = env.reset()
    actions = torch.zeros(4, dtype=torch.int64) if env_class is CartPole else torch.zeros(4, 1)
    next_observations, rewards, terminated, truncated, infos = env.step(actions)
    assert env.state.dtype == dtype
    assert observations.dtype == next_observations.dtype == infos["final_obs"].dtype == torch.float32
    assert rewards.dtype == torch.float32
    assert terminated.dtype == truncated.dtype == infos["_final_obs"].dtype == torch.bool


def devices():
    return ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)] if torch.cuda.is_available() else ["cpu"]


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("env_class", [CartPole, Pendulum])
def test_every_tensor_lives_on_the_env_device(env_class, device):
    env = env_class(4, device=device, seed=0)
    observations, _ = env.reset()
    shape = (4,) if env_class is CartPole else (4, 1)
    outputs = env.step(torch.zeros(shape, device=device))
    tensors = [observations, *outputs[:4], *outputs[4].values(), env.state, env.elapsed_steps]
    assert {tensor.device for tensor in tensors} == {torch.device(device)}
    assert env.device == torch.device(device)


def test_spaces_follow_gymnasium_vector_env_conventions():
    env = CartPole(5)
    reference = gym.make("CartPole-v1")
    assert isinstance(env, gym.vector.VectorEnv)
    assert isinstance(env, BatchedVectorEnv)
    assert env.single_observation_space == reference.observation_space
    assert env.single_action_space == reference.action_space
    assert env.observation_space.shape == (5, 4)
    assert env.action_space.shape == (5,)
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    pendulum = Pendulum(5)
    assert pendulum.single_observation_space == gym.make("Pendulum-v1").observation_space
    assert pendulum.single_action_space == gym.make("Pendulum-v1").action_space
    assert pendulum.action_space.shape == (5, 1)


def test_actions_with_a_trailing_column_are_accepted_like_flat_ones():
    flat, column = CartPole(3, seed=0), CartPole(3, seed=0)
    flat.reset()
    column.reset()
    actions = torch.tensor([0, 1, 1])
    assert torch.equal(flat.step(actions)[0], column.step(actions.view(3, 1))[0])


# ---------------------------------------------------------------------- errors
def test_wrong_action_shape_names_the_shape_received_and_expected():
    env = CartPole(4)
    env.reset()
    with pytest.raises(ValueError, match=r"should be \(num_envs, \*action_shape\) = \(4,\), got \(3,\)"):
        env.step(torch.zeros(3, dtype=torch.int64))
    pendulum = Pendulum(4)
    pendulum.reset()
    with pytest.raises(ValueError, match=r"= \(4, 1\), got \(4, 2\)"):
        pendulum.step(torch.zeros(4, 2))


def test_actions_on_another_device_are_refused_with_the_fix():
    env = CartPole(2)
    env.reset()
    with pytest.raises(
        ValueError, match=r"runs on cpu, got actions on meta; move them with actions.to\('cpu'\)"
    ):
        env.step(torch.zeros(2, device="meta"))


def test_step_before_reset_says_to_reset():
    with pytest.raises(RuntimeError, match=r"CartPole.step: call reset\(\) first"):
        CartPole(2).step(torch.zeros(2))


def test_bad_reset_arguments_are_refused():
    env = CartPole(2)
    with pytest.raises(KeyError, match='unknown CartPole.reset option "stat" \\(did you mean "state"\\?\\)'):
        env.reset(options={"stat": torch.zeros(2, 4)})
    with pytest.raises(
        ValueError, match=r'options\["state"\] should be \(num_envs, state_size\) = \(2, 4\), got \(4,\)'
    ):
        env.reset(options={"state": torch.zeros(4)})
    env.reset()
    with pytest.raises(ValueError, match=r'options\["reset_mask"\] should be a \(num_envs,\) = \(2,\) bool'):
        env.reset(options={"reset_mask": torch.tensor([1, 0])})
    with pytest.raises(TypeError, match="takes one int"):
        env.reset(seed=[1, 2])


@pytest.mark.parametrize("arguments", [{"num_envs": 0}, {"num_envs": 2.0}, {"max_episode_steps": 0}])
def test_bad_constructor_arguments_are_refused(arguments):
    with pytest.raises(ValueError, match="should be a positive int"):
        CartPole(**arguments)
