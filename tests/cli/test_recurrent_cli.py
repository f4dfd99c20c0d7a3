"""Recurrent policies on the command line: train from a model description with ``rnn``, eval, export.

Tiny budgets: the runs only have to exist, the checks are exact (an exported recurrent policy
carrying its states replays the PyTorch policy's own step-by-step computation on a whole episode).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import gymnasium
import numpy as np
import pytest
import torch
import yaml

from rlblocks.cli import build, evaluate, export
from rlblocks.cli import train as training
from rlblocks.cli.registry import CLIError

ROOT = pathlib.Path(__file__).parents[2]
LSTM = {"type": "lstm", "hidden_size": 16, "num_layers": 1, "sequence_length": 16}


@pytest.fixture(autouse=True)
def keep_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def write_config(path: pathlib.Path, models: dict, agent: dict | None = None) -> str:
    path.write_text(yaml.safe_dump({"models": models, **({"agent": agent} if agent else {})}))
    return str(path)


def train(tmp_path, name, algo, env, models, agent=None, timesteps=64):
    config = write_config(tmp_path / f"{name}.yaml", models, agent)
    result = training.train(
        algo, env, config, timesteps=timesteps, num_envs=2, run_dir=str(tmp_path / name), progress_bar=False
    )
    return pathlib.Path(result.run_dir)


def test_rlblocks_train_accepts_a_recurrent_policy_description(tmp_path):
    """The documented command: ``rlblocks train --algo ppo --env CartPole-v1 --config my.yaml``."""
    policy = {"kind": "categorical", "rnn": LSTM, "hiddens": [16], "hidden_activation": "tanh"}
    config = write_config(tmp_path / "my.yaml", {"policy": policy})
    run = tmp_path / "run"
    command = [sys.executable, "-m", "rlblocks", "train", "--algo", "ppo", "--env", "CartPole-v1"]
    options = [
        "--config",
        config,
        "--timesteps",
        "64",
        "--num-envs",
        "2",
        "--run-dir",
        str(run),
        "--no-progress",
    ]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [*command, *options], env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "rlblocks train: done" in result.stdout
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["models"]["policy"]["rnn"] == LSTM
    agent = evaluate.load_agent(str(run))[0]
    assert agent.policy.get_specification()["rnn"]["sizes"] == [(1, 1, 16), (1, 1, 16)]
    assert agent.recurrent is not None and "value" not in agent.recurrent.sizes  # feed-forward value


@pytest.mark.parametrize(
    ("rnn", "message"),
    [
        ({"type": "lstn"}, "models.policy: unknown rnn type 'lstn' \\(did you mean \"lstm\"\\?\\); "
         "use one of rnn, gru, lstm"),
        ({"type": "gru", "hidden_size": 0}, "models.policy: rnn hidden_size must be a positive int, got 0"),
        ({"type": "rnn", "num_layers": "two"},
         "models.policy: rnn num_layers must be a positive int, got 'two'"),
        ({"kind": "gru"},
         "models.policy: unknown rnn key 'kind'; valid: type, hidden_size, num_layers, sequence_length"),
    ],
)  # fmt: skip
def test_a_bad_rnn_description_names_the_value_and_what_is_accepted(tmp_path, rnn, message):
    with pytest.raises(CLIError, match=message):
        train(tmp_path, "bad", "ppo", "CartPole-v1", {"policy": {"kind": "categorical", "rnn": rnn}})
    assert not (tmp_path / "bad").exists()


def test_a_sequence_length_that_cuts_the_rollouts_is_refused_before_the_run_starts(tmp_path):
    policy = {"kind": "categorical", "rnn": {**LSTM, "sequence_length": 10}}
    with pytest.raises(
        CLIError, match=r'agent: PPO .*sequence_length=10 .*cfg\["rollouts"\]=64 .*rollouts=70'
    ):
        train(tmp_path, "cut", "ppo", "CartPole-v1", {"policy": policy})
    assert not (tmp_path / "cut").exists()  # nothing written


@pytest.fixture(scope="module")
def gru_pendulum_run(tmp_path_factory):
    """PPO on Pendulum with a 2-layer GRU Gaussian policy and an LSTM value, 64 timesteps x 2 envs.

    No state preprocessor, so that the tests can feed the raw observations to the policy itself.
    """
    tmp_path = tmp_path_factory.mktemp("recurrent")
    rnn = {"type": "gru", "hidden_size": 16, "num_layers": 2, "sequence_length": 8}
    models = {
        "policy": {"kind": "gaussian", "rnn": rnn, "hiddens": [16], "output_activation": None},
        "value": {"kind": "deterministic", "rnn": {**LSTM, "sequence_length": 8}, "hiddens": [16]},
    }
    agent = {"rollouts": 32, "mini_batches": 2, "state_preprocessor": None}
    threads = torch.get_num_threads()
    run = train(tmp_path, "gru", "ppo", "Pendulum-v1", models, agent)
    torch.set_num_threads(threads)
    return run


def policy_step(policy, observations, states):
    """The policy's own deterministic step: the clamped mean and the next states."""
    with torch.no_grad():
        mean, _, outputs = policy.compute({"states": observations, "rnn": states}, role="policy")
    return [mean.clamp(-2.0, 2.0), *outputs["rnn"]]


def zero_states(policy, num_envs=1):
    return [torch.zeros(size[0], num_envs, size[2]) for size in policy.get_specification()["rnn"]["sizes"]]


def test_eval_of_a_recurrent_run_carries_the_states_and_resets_them_per_episode(gru_pendulum_run):
    result = evaluate.evaluate(str(gru_pendulum_run), episodes=2)
    agent, config, _, _ = evaluate.load_agent(str(gru_pendulum_run))
    config.seed += 1000  # the evaluation's env, as `rlblocks eval` makes it
    env = build.make_env(config, num_envs=1)
    observations, _ = env.reset()
    returns = []
    for _ in range(2):
        states, total, done = zero_states(agent.policy), 0.0, False
        while not done:
            action, *states = policy_step(agent.policy, observations, states)
            observations, rewards, terminated, truncated, _ = env.step(action)
            total += float(rewards.sum())
            done = bool(terminated | truncated)
        returns.append(total)
        observations, _ = env.reset()
    env.close()
    np.testing.assert_allclose(result.returns, returns, rtol=1e-6)


def play_episode(run, policy, seed=7):
    """A whole Pendulum episode acted by ``run`` carrying its states; returns observations and actions."""
    env = gymnasium.make("Pendulum-v1")
    observation, _ = env.reset(seed=seed)
    states, rows, actions, done = zero_states(policy), [], [], False
    while not done:
        rows.append(torch.as_tensor(observation, dtype=torch.float32).view(1, -1))
        action, *states = run(rows[-1], *states)
        actions.append(action)
        observation, _, terminated, truncated, _ = env.step(action[0].numpy())
        done = terminated or truncated
    env.close()
    return torch.cat(rows), torch.cat(actions)


@pytest.mark.filterwarnings("ignore:`torch.jit")  # TorchScript is deprecated in torch 2.13, still works
@pytest.mark.parametrize("export_format", ["torchscript", "onnx"])
def test_export_of_a_recurrent_policy_takes_and_returns_the_states(gru_pendulum_run, tmp_path, export_format):
    output = tmp_path / f"policy.{export_format}"
    result = export.export(str(gru_pendulum_run), format=export_format, output=str(output))
    assert result.matches and result.num_episodes == 1 and result.num_observations == 200
    assert result.state_shapes(3) == {"rnn_state_0": (2, 3, 16)}
    summary = export.summary(result)
    assert "inputs: observations, rnn_state_0 (rnn_state_0 (2, 1, 16) for one env)" in summary
    assert "200 steps of 1 whole episode(s), states carried" in summary
    if export_format == "torchscript":
        loaded = torch.jit.load(str(output))

        def run(*inputs):
            with torch.no_grad():
                return list(loaded(*inputs))
    else:
        onnxruntime = pytest.importorskip("onnxruntime")
        session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
        assert [item.name for item in session.get_inputs()] == ["observations", "rnn_state_0"]
        assert [item.name for item in session.get_outputs()] == ["actions", "rnn_state_0_out"]

        def run(observations, state):
            feed = {"observations": observations.numpy(), "rnn_state_0": state.numpy()}
            return [torch.from_numpy(array) for array in session.run(None, feed)]

    policy = evaluate.load_agent(str(gru_pendulum_run))[0].policy
    observations, exported = play_episode(run, policy)
    _, eager = play_episode(lambda *inputs: policy_step(policy, inputs[0], list(inputs[1:])), policy)
    assert exported.shape == (200, 1)
    torch.testing.assert_close(exported, eager, atol=1e-5, rtol=0)
    # the states matter: the same observations from zero states at every step act otherwise
    stateless = torch.cat([run(row.view(1, -1), *zero_states(policy))[0] for row in observations])
    torch.testing.assert_close(stateless[0], exported[0], atol=1e-5, rtol=0)
    assert (stateless[1:] - exported[1:]).abs().max() > 1e-3
    actions, next_state = run(torch.zeros(4, 3), *zero_states(policy, 4))  # any number of envs at once
    assert actions.shape == (4, 1) and next_state.shape == (2, 4, 16)


@pytest.mark.filterwarnings("ignore:`torch.jit")
@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_off_policy_recurrent_policy_trains_on_two_envs_evaluates_on_one_and_exports(tmp_path, algo):
    """The model description says 1 env; the agent trains on 2 (updates on sequences), evaluates on 1."""
    kind = "gaussian" if algo == "sac" else "deterministic"
    policy = {"kind": kind, "rnn": {**LSTM, "type": "gru", "sequence_length": 4}, "hiddens": [16]}
    agent = {"learning_starts": 40, "batch_size": 4}
    run = train(tmp_path, algo, algo, "Pendulum-v1", {"policy": policy}, agent, timesteps=60)
    trained = evaluate.load_agent(str(run))[0]
    assert trained.timestep == 60 and trained.recurrence.sequence_length == 4
    assert len(evaluate.evaluate(str(run), episodes=1).returns) == 1
    result = export.export(str(run), format="torchscript", output=str(tmp_path / "policy.pt"))
    assert result.matches and result.state_shapes(1) == {"rnn_state_0": (1, 1, 16)}
