"""DeepMindWrapper: specs to spaces, flattening, termination vs truncation, rendering (dm_control suite)."""

import os
import subprocess
import sys
from collections import OrderedDict

import gymnasium
import numpy as np
import pytest
import torch

dm_env = pytest.importorskip("dm_env", reason="dm_env comes with the [dm] extra (dm-control)")
from dm_env import specs  # noqa: E402

from rlblocks.envs.torch import wrap_env  # noqa: E402
from rlblocks.envs.torch.wrappers import DeepMindWrapper  # noqa: E402
from rlblocks.envs.torch.wrappers.deepmind import spec_to_space  # noqa: E402


class FallEnv(dm_env.Environment):
    """Observation {"height": (), "tilt": (2,)}; the episode terminates (discount 0) after `fall_at`
    steps, or is cut (discount 1) at `limit`. Reward = 10 * the action's first component."""

    def __init__(self, fall_at=3, limit=10, discrete=False):
        self.fall_at, self.limit, self.discrete = fall_at, limit, discrete
        self.t, self.actions = 0, []

    def observation_spec(self):
        return OrderedDict(
            tilt=specs.Array((2,), np.float64, "tilt"), height=specs.Array((), np.float64, "height")
        )

    def action_spec(self):
        if self.discrete:
            return specs.DiscreteArray(3, name="push")
        return specs.BoundedArray((2,), np.float32, minimum=-1.0, maximum=[1.0, 2.0], name="push")

    def _observation(self):
        return OrderedDict(tilt=np.array([self.t, -self.t], np.float64), height=np.float64(100 + self.t))

    def reset(self):
        self.t = 0
        return dm_env.restart(self._observation())

    def step(self, action):
        self.actions.append(action)
        self.t += 1
        reward = 10.0 * float(np.asarray(action).reshape(-1)[0])
        if self.t == self.fall_at:
            return dm_env.termination(reward, self._observation())
        if self.t == self.limit:
            return dm_env.truncation(reward, self._observation(), discount=1.0)
        return dm_env.transition(reward, self._observation())


def test_specs_become_gymnasium_spaces():
    assert spec_to_space(specs.DiscreteArray(4)) == gymnasium.spaces.Discrete(4)
    box = spec_to_space(specs.BoundedArray((2,), np.float64, minimum=-1.0, maximum=[1.0, 2.0]))
    assert box.dtype == np.float32 and box.low.tolist() == [-1, -1] and box.high.tolist() == [1, 2]
    unbounded = spec_to_space(specs.Array((3, 2), np.float64))
    assert unbounded.shape == (3, 2) and np.isinf(unbounded.low).all()
    space = spec_to_space(FallEnv().observation_spec())
    assert isinstance(space, gymnasium.spaces.Dict) and space["height"].shape == ()
    with pytest.raises(ValueError, match="spec 'nope' of type str is not supported"):
        spec_to_space("nope")


def test_auto_detection():
    assert type(wrap_env(FallEnv(), verbose=False)) is DeepMindWrapper


def test_observations_are_flattened_in_the_spaces_key_order():
    env = wrap_env(FallEnv(), verbose=False)
    states, infos = env.reset()
    assert states.dtype == torch.float32 and states.tolist() == [[100.0, 0.0, 0.0]]  # height, tilt
    assert infos == {}


def test_a_terminal_step_terminates_and_the_time_limit_truncates():
    env = wrap_env(FallEnv(fall_at=3), verbose=False)
    env.reset()
    flags = [env.step(torch.tensor([[0.5, 0.0]]))[2:4] for _ in range(3)]
    assert [(bool(te), bool(tr)) for te, tr in flags] == [(False, False), (False, False), (True, False)]
    env = wrap_env(FallEnv(fall_at=0, limit=2), verbose=False)
    env.reset()
    env.step(torch.tensor([[0.0, 0.0]]))
    next_states, rewards, terminated, truncated, infos = env.step(torch.tensor([[0.5, 0.0]]))
    assert (terminated.item(), truncated.item(), infos) == (False, True, {"discount": 1.0})
    assert next_states.tolist() == [[102.0, 2.0, -2.0]]  # the final observation
    assert rewards.dtype == torch.float32 and rewards.tolist() == [[5.0]]


def test_actions_reach_the_env_in_the_specs_dtype_and_shape():
    fake = FallEnv()
    env = wrap_env(fake, verbose=False)
    env.reset()
    env.step(torch.tensor([[0.25, 1.5]]))
    assert fake.actions[0].dtype == np.float32 and fake.actions[0].tolist() == [0.25, 1.5]
    fake = FallEnv(discrete=True)
    env = wrap_env(fake, verbose=False)
    assert env.action_space == gymnasium.spaces.Discrete(3)
    env.reset()
    env.step(torch.tensor([[2]]))
    assert int(fake.actions[0]) == 2


def test_dm_control_cartpole_is_truncated_at_its_time_limit():
    suite = pytest.importorskip("dm_control.suite", reason="dm-control comes with the [dm] extra")
    raw = suite.load("cartpole", "balance", task_kwargs={"random": 0, "time_limit": 0.05})
    env = wrap_env(raw, verbose=False)
    assert env.observation_space["position"].shape == (3,) and env.action_space.shape == (1,)
    states, _ = env.reset()
    position, velocity = raw.physics.bounded_position(), raw.physics.velocity()
    torch.testing.assert_close(states, torch.tensor([[*position, *velocity]], dtype=torch.float32))
    ends = []
    for _ in range(5):
        ends.append([bool(flag) for flag in env.step(torch.zeros(1, 1))[2:4]])
    assert ends == [[False, False]] * 4 + [[False, True]]


def test_render_uses_physics_render():
    pytest.importorskip("dm_control.suite", reason="dm-control comes with the [dm] extra")
    code = (
        "from dm_control import suite\n"
        "from rlblocks.envs.torch import wrap_env\n"
        "env = wrap_env(suite.load('cartpole', 'balance'), verbose=False)\n"
        "env.reset()\n"
        "image = env.render(height=24, width=32)\n"
        "print(image.shape, image.dtype)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "MUJOCO_GL": "egl"}, capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"no EGL rendering on this machine: {result.stderr.strip().splitlines()[-1:]}")
    assert result.stdout.strip().splitlines()[-1] == "(24, 32, 3) uint8"


def test_render_without_physics_says_why():
    with pytest.raises(AttributeError, match="FallEnv has no physics to render"):
        wrap_env(FallEnv(), verbose=False).render()
