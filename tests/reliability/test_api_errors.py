"""Python-API mistakes get an error naming the value, what is accepted and the fix.

Each case used to fail later, obscurely (a dtype mismatch inside ``linear``, gymnasium's
"np.int64(2) invalid", an env-index message from the memory) or not at all (a bare tensor from
``compute`` unpacked row by row, a Discrete(1) agent on CartPole).
"""

from __future__ import annotations

import errno
import os
import pathlib
import re

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.models.torch import DeterministicMixin, Model
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.migration import load_normalization
from rlblocks.utils.model_instantiators import categorical_model, gaussian_model
from tests.helpers.models import CategoricalPolicy, GaussianPolicy, Value

DATA = pathlib.Path(__file__).parents[1] / "data" / "checkpoints"
CARTPOLE = (gym.spaces.Box(-np.inf, np.inf, (4,)), gym.spaces.Discrete(2))
PENDULUM = (gym.spaces.Box(-8.0, 8.0, (3,)), gym.spaces.Box(-2.0, 2.0, (1,)))
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def cartpole(num_envs: int = 2):
    return wrap_env(gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def ppo(cfg=None, memory=None, spaces=CARTPOLE, policy_spaces=None, num_envs=2):
    models = {
        "policy": CategoricalPolicy(*(policy_spaces or spaces), hidden=(8,)),
        "value": Value(*spaces, hidden=(8,)),
    }
    cfg = {"rollouts": 4, "mini_batches": 1, "experiment": NO_LOGS, **(cfg or {})}
    memory = memory if memory is not None else RandomMemory(memory_size=4, num_envs=num_envs)
    return PPO(models=models, memory=memory, observation_space=spaces[0], action_space=spaces[1], cfg=cfg)


def trainer(agent, env):
    cfg = {"timesteps": 4, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
    return SequentialTrainer(env=env, agents=agent, cfg=cfg)


# ------------------------------------------------------------------ states
@pytest.mark.parametrize("dtype", [torch.float64, torch.int64])
def test_states_of_another_dtype_name_it_and_the_conversion(dtype):
    agent = ppo()
    agent.init()
    with pytest.raises(TypeError, match=rf'"states" are {dtype} but CategoricalPolicy\'s parameters are '):
        agent.act(torch.zeros(2, 4, dtype=dtype), 0, 10)


def test_numpy_states_name_the_type_and_the_conversion():
    agent = ppo()
    agent.init()
    with pytest.raises(
        TypeError, match=r'"states" must be a torch.Tensor, got a numpy.ndarray; .*torch.as_tensor'
    ):
        agent.act(np.zeros((2, 4), dtype=np.float32), 0, 10)


def test_taken_actions_of_the_wrong_width_are_refused():
    policy = CategoricalPolicy(*CARTPOLE, hidden=(8,))
    with pytest.raises(
        ValueError, match=r'"taken_actions" should be \(2, 1\) for CategoricalPolicy .* got \(2, 3\)'
    ):
        policy.act({"states": torch.zeros(2, 4), "taken_actions": torch.zeros(2, 3)}, role="policy")
    gaussian = GaussianPolicy(*PENDULUM)
    with pytest.raises(
        ValueError, match=r'"taken_actions" should be \(2, 1\) for GaussianPolicy .* got \(2, 3\)'
    ):
        gaussian.act({"states": torch.zeros(2, 3), "taken_actions": torch.zeros(2, 3)}, role="policy")


class BareValue(DeterministicMixin, Model):
    """A model whose compute forgets the outputs dict."""

    def __init__(self):
        Model.__init__(self, *CARTPOLE)
        DeterministicMixin.__init__(self)
        self.net = torch.nn.Linear(4, 1)

    def compute(self, inputs, role=""):
        return self.net(inputs["states"])


def test_compute_returning_a_bare_tensor_is_refused_for_a_batch_of_two():
    with pytest.raises(
        TypeError, match=r"BareValue.compute\(role=''\) must return \(output, outputs dict\), got a bare "
    ):
        BareValue().act({"states": torch.zeros(2, 4)})


# ------------------------------------------------------------------ config
@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "state_preprocessor",
            "RunningStandardScaler",
            r"must be a class, got the string 'RunningStandardScaler'",
        ),
        (
            "state_preprocessor",
            RunningStandardScaler(4),
            r"must be a class .* got an instance of RunningStandardScaler",
        ),
        ("learning_rate_scheduler", "KLAdaptiveRL", r"must be a class, got the string 'KLAdaptiveRL'"),
        (
            "rewards_shaper",
            "lambda r: r",
            r"must be a function f\(rewards, timestep, timesteps\).* got 'lambda r: r'",
        ),
        ("rewards_shaper", 3, r"must be a function .* got 3 \(int\)"),
    ],
    ids=["preprocessor-name", "preprocessor-instance", "scheduler-name", "shaper-string", "shaper-int"],
)
def test_a_string_or_an_instance_where_a_class_or_function_is_expected(key, value, message):
    with pytest.raises(TypeError, match=rf'config key "{key}" {message}'):
        ppo({key: value})


def test_a_scheduler_instance_is_refused_with_the_kwargs_fix():
    scheduler = KLAdaptiveRL(torch.optim.Adam([torch.zeros(1, requires_grad=True)]))
    with pytest.raises(
        TypeError, match=r'got an instance of KLAdaptiveRL; .*cfg\["learning_rate_scheduler_kwargs"\]'
    ):
        ppo({"learning_rate_scheduler": scheduler})


# ----------------------------------------------------- agent against the env
def test_a_memory_made_for_another_number_of_envs():
    env = cartpole(2)
    agent = ppo(memory=RandomMemory(memory_size=4, num_envs=5))
    with pytest.raises(ValueError, match=r"made for num_envs=5, but the trainer gives it 2 .*num_envs=2\)"):
        trainer(agent, env)
    env.close()


@pytest.mark.parametrize("actions", [3, 1], ids=["more-actions", "fewer-actions"])
def test_a_policy_whose_action_space_differs_from_the_env(actions):
    env = cartpole(2)
    spaces = (CARTPOLE[0], gym.spaces.Discrete(actions))
    with pytest.raises(
        ValueError, match=rf'model "policy" of PPO was built for actions of Discrete\({actions}\), but'
    ):
        trainer(ppo(policy_spaces=spaces), env)
    with pytest.raises(
        ValueError, match=rf"the agent of PPO was built for actions of Discrete\({actions}\), but"
    ):
        trainer(ppo(spaces=spaces), env)
    env.close()


def test_a_model_built_for_three_observations_on_a_two_observation_env():
    class TwoObservations(gym.Env):
        observation_space = gym.spaces.Box(-1.0, 1.0, (2,))
        action_space = gym.spaces.Discrete(2)

        def reset(self, seed=None, options=None):
            return np.zeros(2, dtype=np.float32), {}

        def step(self, action):
            return np.zeros(2, dtype=np.float32), 0.0, False, False, {}

    env = wrap_env(gym.vector.SyncVectorEnv([TwoObservations, TwoObservations]), verbose=False)
    three = (gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Discrete(2))
    with pytest.raises(
        ValueError, match=r"built for observations of Box\(-1.0, 1.0, \(3,\), float32\), but the env"
    ):
        trainer(ppo(spaces=three), env)
    env.close()


def test_instantiators_refuse_an_action_space_their_distribution_cannot_sample():
    with pytest.raises(
        ValueError, match=r"gaussian_model cannot sample actions of Discrete\(2\).*use categorical_model"
    ):
        gaussian_model(*CARTPOLE)
    with pytest.raises(
        ValueError, match=r"categorical_model cannot sample actions of Box\(.*use gaussian_model"
    ):
        categorical_model(*PENDULUM)


# ------------------------------------------------------------------- files
def test_a_damaged_npz_memory_names_the_file(tmp_path):
    memory = RandomMemory(memory_size=4, num_envs=1)
    memory.create_tensor("states", 3)
    path = memory.save(str(tmp_path), format="npz")
    data = pathlib.Path(path).read_bytes()
    pathlib.Path(path).write_bytes(data[: len(data) // 2])
    expected = rf"{re.escape(repr(path))} is not a readable .npz memory file \(corrupted, truncated"
    with pytest.raises(CheckpointError, match=expected):
        RandomMemory(memory_size=4, num_envs=1).load(path)


def test_a_damaged_vec_normalize_pickle_names_the_file(tmp_path):
    data = bytearray((DATA / "sb3_vecnormalize_cartpole.pkl").read_bytes())
    data[1689] = 0  # a length field: the unpickler ran out of memory (MemoryError) before
    path = tmp_path / "vec_normalize.pkl"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"vec_normalize.pkl' is not a readable VecNormalize pickle"):
        load_normalization(path=str(path))


def test_a_small_text_file_given_to_migrate(tmp_path):
    (tmp_path / "notes.txt").write_text("this is not a checkpoint\n")  # 25 bytes
    with pytest.raises(
        CheckpointError, match=r"notes.txt.*neither a zip archive .* nor a pickle; it starts with"
    ):
        CategoricalPolicy(*CARTPOLE, hidden=(8,)).migrate(path=str(tmp_path / "notes.txt"))


def test_a_full_disk_names_the_file_and_the_fix(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    policy = CategoricalPolicy(*CARTPOLE, hidden=(8,))
    target = tmp_path / "policy.pt"
    with pytest.raises(
        OSError, match=rf"cannot write '{target}': No space left on device; free some disk space"
    ):
        policy.save(str(target))
    assert os.listdir(tmp_path) == []
    memory = RandomMemory(memory_size=4, num_envs=1)
    memory.create_tensor("states", 3)
    with pytest.raises(
        OSError, match=r"cannot write '.*memories/.*_memory_.*\.pt': No space left on device"
    ) as caught:
        memory.save(str(tmp_path), format="pt")
    assert caught.value.errno == errno.ENOSPC
