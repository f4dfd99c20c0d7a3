"""NaN, inf, 1e38 and None from the environment: a clear error within one update, never a NaN agent."""

from __future__ import annotations

import logging

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import SyncVectorEnv

from rlblocks.agents.torch.base import NonFiniteError
from rlblocks.agents.torch.parts import OptimisationStep
from rlblocks.agents.torch.parts.non_finite import NonFiniteGuard
from rlblocks.agents.torch.ppo import PPO
from rlblocks.agents.torch.trpo import TRPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.utils.host_flag import HostFlag
from tests.helpers.models import CategoricalPolicy, Value
from tests.helpers.off_policy import make_agent, train

CORRUPT_FROM = 5
"""The corrupted env's `step` number (1-based) from which its outputs are corrupted: trainer timestep 4."""
ROLLOUTS = 8


class Corrupt(gym.Wrapper):
    """Corrupts the wrapped env's observations or rewards from its `CORRUPT_FROM`-th step on.

    kind: "nan_obs", "inf_obs", "nan_reward", "inf_reward", "big_reward" (1e38, finite),
    "huge_reward" (1e20: finite, but its square overflows float32), "none_reward", or "nan_reset"
    (every reset observation is NaN, the steps are clean).
    """

    def __init__(self, env: gym.Env, kind: str) -> None:
        super().__init__(env)
        self.kind = kind
        self.num_steps = 0

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        if self.kind == "nan_reset":
            observation = np.full_like(observation, np.nan)
        return observation, info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.num_steps += 1
        if self.num_steps >= CORRUPT_FROM:
            value = {"nan": np.nan, "inf": np.inf}.get(self.kind.split("_")[0])
            if self.kind.endswith("_obs"):
                observation = np.full_like(observation, value)
            elif self.kind in ("nan_reward", "inf_reward"):
                reward = value
            elif self.kind == "big_reward":
                reward = 1e38
            elif self.kind == "huge_reward":
                reward = 1e20
            elif self.kind == "none_reward":
                reward = None
        return observation, reward, terminated, truncated, info


def corrupted_env(env_id: str, kind: str, max_episode_steps: int | None = None):
    """Two envs of ``env_id``; the second (index 1) corrupted by `Corrupt`."""
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    return wrap_env(
        SyncVectorEnv(
            [lambda: gym.make(env_id, **kwargs), lambda: Corrupt(gym.make(env_id, **kwargs), kind)]
        ),
        verbose=False,
    )


def agent_on(name: str, env, preprocessor: bool, cfg: dict | None = None):
    cfg = dict(cfg or {})
    if preprocessor:
        cfg["state_preprocessor"] = RunningStandardScaler
    if name in ("ppo", "trpo"):
        spaces = (env.observation_space, env.action_space)
        models = {
            "policy": CategoricalPolicy(*spaces, hidden=(16,)),
            "value": Value(*spaces, hidden=(16,)),
        }
        cfg = {"rollouts": ROLLOUTS, "mini_batches": 2, "learning_epochs": 2, **cfg}
        cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
        agent_class = PPO if name == "ppo" else TRPO
        return agent_class(models, RandomMemory(ROLLOUTS, env.num_envs), *spaces, "cpu", cfg)
    return make_agent(name, env=env, cfg={"learning_starts": ROLLOUTS, **cfg})[0]


def parameters_are_finite(agent) -> bool:
    return all(
        torch.isfinite(parameter).all() for model in agent.models.values() for parameter in model.parameters()
    )


ENV_OF = {"ppo": "CartPole-v1", "trpo": "CartPole-v1", "dqn": "CartPole-v1", "sac": "Pendulum-v1"}
DATA_CASES = [
    ("nan_obs", "next_states (next observations)"),
    ("inf_obs", "next_states (next observations)"),
    ("nan_reward", "rewards"),
    ("inf_reward", "rewards"),
    ("none_reward", "rewards"),  # a vector env turns None into NaN before the wrapper sees it
]


@pytest.mark.parametrize("preprocessor", [False, True], ids=["raw", "preprocessor"])
@pytest.mark.parametrize(("kind", "tensor"), DATA_CASES, ids=[case[0] for case in DATA_CASES])
@pytest.mark.parametrize("name", ["ppo", "sac", "dqn"])
def test_non_finite_data_raises_at_the_step_it_arrives_naming_env_step_tensor_and_envs(
    name, kind, tensor, preprocessor
):
    env = corrupted_env(ENV_OF[name], kind)
    agent = agent_on(name, env, preprocessor)
    with pytest.raises(NonFiniteError) as error:
        train(agent, env, 40)
    message = str(error.value)
    assert f"'{ENV_OF[name]}' (GymnasiumWrapper)" in message
    assert f"in {tensor} of environment(s) 1, first at timestep {CORRUPT_FROM - 1}" in message
    assert "TransformReward" in message and '"warn-and-skip"' in message
    assert agent.timestep == CORRUPT_FROM - 1  # raised at that step, before any update learnt from it
    assert parameters_are_finite(agent)


@pytest.mark.parametrize("preprocessor", [False, True], ids=["raw", "preprocessor"])
@pytest.mark.parametrize("name", ["ppo", "sac", "dqn"])
def test_a_nan_reset_observation_is_named_as_the_states(name, preprocessor):
    env = corrupted_env(ENV_OF[name], "nan_reset")
    agent = agent_on(name, env, preprocessor)
    with pytest.raises(
        NonFiniteError, match=r"in states \(observations\) of environment\(s\) 1, first at timestep 0"
    ):
        train(agent, env, 40)
    assert parameters_are_finite(agent)


@pytest.mark.parametrize("name", ["ppo", "trpo", "sac", "dqn"])
def test_finite_rewards_of_1e38_whose_sums_overflow_raise_when_they_overflow(name):
    env = corrupted_env(ENV_OF[name], "big_reward")
    agent = agent_on(name, env, preprocessor=False)
    with pytest.raises(NonFiniteError) as error:
        train(agent, env, 40)
    message = str(error.value)
    # 1e38 from timestep 4 on: the sum passes float32's 3.4e38 with the fourth, at timestep 7
    assert (
        "so large that their sums overflow float32 in rewards of environment(s) 1 (|value| up to 1e+38) "
        in message
    )
    assert "at timestep 7" in message and "rewards_shaper" in message
    assert agent.timestep == 7 and parameters_are_finite(agent)


@pytest.mark.parametrize(
    ("name", "optimizer"),
    [("ppo", "optimizer"), ("trpo", "value_optimizer"), ("sac", "critic_optimizer"), ("dqn", "optimizer")],
)
def test_finite_rewards_whose_squares_overflow_raise_at_the_first_update_before_its_step(name, optimizer):
    env = corrupted_env(ENV_OF[name], "huge_reward")  # 1e20: its square, 1e40, is not a float32
    agent = agent_on(name, env, preprocessor=False)
    with pytest.raises(NonFiniteError, match=f"the loss of '{optimizer}' is not finite") as error:
        train(agent, env, 40)
    assert "1e38" in str(error.value) and "rewards_shaper" in str(error.value)
    assert agent.timestep <= 2 * ROLLOUTS  # within one update of the first 1e20 reward (timestep 4)
    assert parameters_are_finite(agent)  # the step was not taken


def test_a_none_reward_from_a_single_env_is_refused_by_the_wrapper():
    env = wrap_env(Corrupt(gym.make("CartPole-v1"), "none_reward"), verbose=False)
    env.reset()
    for _ in range(CORRUPT_FROM - 1):
        env.step(torch.zeros(1, 1, dtype=torch.int64))
    with pytest.raises(TypeError, match="returned the reward None.*TransformReward"):
        env.step(torch.zeros(1, 1, dtype=torch.int64))


def test_no_checkpoint_is_written_after_non_finite_data(tmp_path):
    env = corrupted_env("CartPole-v1", "nan_reward")
    experiment = {"directory": str(tmp_path), "experiment_name": "run", "checkpoint_interval": 1}
    agent = agent_on("dqn", env, preprocessor=False, cfg={"experiment": experiment})
    with pytest.raises(NonFiniteError):
        train(agent, env, 40)
    written = sorted(path.name for path in (tmp_path / "run" / "checkpoints").glob("agent_*.pt"))
    assert written == [f"agent_{step}.pt" for step in range(1, CORRUPT_FROM)]  # up to the last clean step


@pytest.mark.parametrize("preprocessor", [False, True], ids=["raw", "preprocessor"])
@pytest.mark.parametrize("name", ["ppo", "sac", "dqn"])
def test_warn_and_skip_leaves_out_the_steps_of_an_env_with_nan_resets_and_learns_from_the_rest(
    name, preprocessor, caplog
):
    env = corrupted_env(ENV_OF[name], "nan_reset", max_episode_steps=6)
    agent = agent_on(name, env, preprocessor, cfg={"non_finite": "warn-and-skip"})
    initial = [parameter.detach().clone() for parameter in next(iter(agent.models.values())).parameters()]
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        train(agent, env, 60)
    assert "non-finite values" in caplog.text and "(skipped; 1 skipped so far)" in caplog.text
    if name == "sac":  # the NaN torque chosen for a NaN observation makes Pendulum's state NaN
        assert 10 <= agent.non_finite.num_skipped < 60
    else:
        assert agent.non_finite.num_skipped == 10  # the 10 resets of env 1: t = 0, 6, ..., 54
    memory = agent.memory
    rows = memory.memory_index or memory.memory_size
    assert 0 < rows <= 60 - agent.non_finite.num_skipped or name == "ppo"
    for stored in ("states", "rewards"):
        assert torch.isfinite(memory.get_tensor_by_name(stored)[:rows]).all()
    assert parameters_are_finite(agent)
    after = list(next(iter(agent.models.values())).parameters())
    assert any(not torch.equal(before, now) for before, now in zip(initial, after))  # it learnt
    if preprocessor:
        assert torch.isfinite(agent._state_preprocessor.running_mean).all()


# ------------------------------------------------------------------ the parts themselves
def test_a_nan_loss_raises_before_the_optimizer_step_and_leaves_the_parameters_unchanged():
    guard = NonFiniteGuard("raise", torch.device("cpu"), "Agent")
    layer = torch.nn.Linear(2, 1)
    step = OptimisationStep(layer.parameters(), 0.1, grad_norm_clip=0.5, guard=guard, name="critic_optimizer")
    before = [parameter.detach().clone() for parameter in layer.parameters()]
    with pytest.raises(NonFiniteError, match="the loss of 'critic_optimizer' is not finite"):
        step(layer(torch.ones(1, 2)).sum() * float("nan"))
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))
    step(layer(torch.ones(1, 2)).sum())  # a finite loss steps as before
    assert not torch.equal(before[0], layer.weight)


def test_warn_and_skip_skips_a_step_whose_gradients_overflow(caplog):
    guard = NonFiniteGuard("warn-and-skip", torch.device("cpu"), "Agent")
    layer = torch.nn.Linear(1, 1)
    step = OptimisationStep(layer.parameters(), 0.1, grad_norm_clip=1.0, guard=guard)
    before = [parameter.detach().clone() for parameter in layer.parameters()]
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        step((layer(torch.full((1, 1), 1e30)) * 1e30).sum())  # finite loss, inf gradient norm
    assert guard.num_skipped == 1 and "optimizer" in caplog.text
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))
    assert step.optimizer.state == {} or int(step.optimizer.state[layer.weight]["step"]) == 0


def test_the_cpu_host_flag_is_a_view_of_the_device_flag():
    flag = HostFlag(torch.device("cpu"), True)
    assert flag.read()
    torch.all(torch.tensor([True, False]), out=flag.tensor)
    assert not flag.read()
    flag.set(True)
    assert flag.read(wait=True)


def test_an_unknown_non_finite_mode_is_refused_with_the_accepted_values():
    env = corrupted_env("CartPole-v1", "nan_obs")
    with pytest.raises(ValueError, match=r'"non_finite" must be one of .raise., .warn-and-skip., got .skip.'):
        agent_on("dqn", env, preprocessor=False, cfg={"non_finite": "skip"})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_checks_never_sync_skip_the_step_on_the_device_and_raise_once_the_flag_lands():
    device = torch.device("cuda")
    guard = NonFiniteGuard("raise", device, "PPO")
    layer = torch.nn.Linear(2, 1).to(device)
    step = OptimisationStep(layer.parameters(), 0.1, grad_norm_clip=0.5, guard=guard)
    before = [parameter.detach().clone() for parameter in layer.parameters()]
    clean = torch.zeros(4, 2, device=device)
    rewards = torch.zeros(4, 1, device=device)
    torch.cuda.set_sync_debug_mode("error")
    try:
        for timestep in range(3):
            guard.watch(timestep, clean, clean, rewards)
            guard.check()
        step(layer(clean).sum() * float("nan"))  # skipped on the device
        guard.watch(3, clean, torch.full_like(clean, float("nan")), rewards)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))
    with pytest.raises(
        NonFiniteError, match="next observations.* environment\\(s\\) 0, 1, 2, 3, first at timestep 3"
    ):
        guard.check(wait=True)
    with pytest.raises(NonFiniteError, match="the loss of 'optimizer' is not finite"):
        guard.check(wait=True)


class NaNObservationsCartPole(gym.Wrapper):
    """CartPole whose observations are NaN from its 5th step on (registered for the CLI test)."""

    def __init__(self) -> None:
        super().__init__(Corrupt(gym.make("CartPole-v1"), "nan_obs"))


def test_rlblocks_train_stops_with_one_error_line_and_exit_status_1(tmp_path):
    from typer.testing import CliRunner

    from rlblocks.cli import app

    env_id = "RlblocksTestNaNCartPole-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=NaNObservationsCartPole)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["train", "--algo", "ppo", "--env", env_id, "--timesteps", "64", "--run-dir", str(run_dir)]
    )
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output
    assert f"from '{env_id}' (GymnasiumWrapper) in next_states (next observations)" in errors[0]
    assert not list(run_dir.glob("checkpoints/agent_*.pt"))  # nothing written after the NaN
