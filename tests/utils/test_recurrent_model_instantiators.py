"""Model instantiators and the CLI's model descriptions with a recurrent layer: ``rnn: {type: lstm, ...}``."""

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.cli.models import build_model
from rlblocks.cli.registry import CLIError
from rlblocks.utils.model_instantiators import (
    Shape,
    categorical_model,
    deterministic_model,
    gaussian_model,
    multivariate_gaussian_model,
)
from rlblocks.utils.model_instantiators.spec import MLPSpec, RNNSpec

OBSERVATIONS = gymnasium.spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
BOX = gymnasium.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
DISCRETE = gymnasium.spaces.Discrete(4)
RNN = {"type": "lstm", "hidden_size": 8, "num_layers": 2, "sequence_length": 3}


def models(rnn):
    return {
        "gaussian": gaussian_model(OBSERVATIONS, BOX, "cpu", hiddens=[16], rnn=rnn),
        "multivariate_gaussian": multivariate_gaussian_model(OBSERVATIONS, BOX, "cpu", hiddens=[16], rnn=rnn),
        "deterministic": deterministic_model(
            OBSERVATIONS, BOX, "cpu", hiddens=[16], output_shape=Shape.ONE, output_activation=None, rnn=rnn
        ),
        "categorical": categorical_model(OBSERVATIONS, DISCRETE, "cpu", hiddens=[16], rnn=rnn),
    }


@pytest.mark.parametrize("layer_type", ["lstm", "gru", "rnn"])
def test_specification_declares_the_states(layer_type):
    for model in models({**RNN, "type": layer_type}).values():
        states = 2 if layer_type == "lstm" else 1
        assert model.get_specification() == {"rnn": {"sequence_length": 3, "sizes": [(2, 1, 8)] * states}}
        assert model.rnn.layer.input_size == 3 and model.net[0].in_features == 8


def test_without_rnn_nothing_changes():
    for model in models(None).values():
        assert model.get_specification() == {} and model.rnn is None
        assert model.net[0].in_features == 3


@pytest.mark.parametrize("name", ["gaussian", "deterministic", "categorical"])
@pytest.mark.parametrize("layer_type", ["lstm", "gru"])
def test_training_sequences_replay_the_steps_with_resets(name, layer_type):
    """Acting step by step (states zeroed after an ended step) equals the training pass on the sequences."""
    torch.manual_seed(0)
    model = models({**RNN, "type": layer_type})[name]
    num_states = 2 if layer_type == "lstm" else 1
    steps, envs = 6, 2
    observations = torch.randn(steps, envs, 3)
    ends = torch.zeros(steps, envs, 1, dtype=torch.bool)
    ends[1, 0] = ends[3, 1] = True  # inside the first sequence of env 0, the second of env 1
    model.train(False)
    states = [torch.zeros(2, envs, 8) for _ in range(num_states)]
    inputs_of_steps, outputs = [], []
    with torch.no_grad():
        for t in range(steps):
            inputs_of_steps.append(states)
            output, _, extra = model.act({"states": observations[t], "rnn": states}, role="policy")
            outputs.append(
                output if name == "deterministic" else extra.get("mean_actions", extra.get("net_output"))
            )
            states = [state * ~ends[t].view(1, envs, 1) for state in extra["rnn"]]
    order = torch.arange(steps * envs).view(steps, envs).t().reshape(-1)  # env by env: sequences of 3
    stored = [
        torch.stack([step[i] for step in inputs_of_steps]) for i in range(num_states)
    ]  # (T, layers, E, H)
    model.train(True)
    with torch.no_grad():
        rnn = [s.permute(0, 2, 1, 3).reshape(steps * envs, 2, 8)[order].transpose(0, 1) for s in stored]
        inputs = {
            "states": observations.reshape(-1, 3)[order],
            "rnn": rnn,
            "terminated": ends.reshape(-1, 1)[order],
        }
        output, _, extra = model.act(inputs, role="policy")
    replayed = output if name == "deterministic" else extra.get("mean_actions", extra.get("net_output"))
    torch.testing.assert_close(
        replayed, torch.stack(outputs).reshape(steps * envs, -1)[order], atol=1e-6, rtol=0
    )


def test_rnn_spec_checks_its_keys_and_values():
    with pytest.raises(
        ValueError, match="unknown rnn key 'hiden_size' \\(did you mean \"hidden_size\"\\?\\)"
    ):
        gaussian_model(OBSERVATIONS, BOX, rnn={"type": "lstm", "hiden_size": 8})
    with pytest.raises(ValueError, match="unknown rnn type 'lstn'"):
        RNNSpec(type="lstn")
    with pytest.raises(ValueError, match="rnn sequence_length must be a positive int"):
        RNNSpec(sequence_length=0)
    assert MLPSpec(rnn={"type": "GRU"}).rnn == RNNSpec(type="gru")


@pytest.mark.parametrize("kind", ["gaussian", "categorical", "deterministic"])
def test_cli_description_accepts_a_recurrent_layer(kind):
    description = {
        "kind": kind,
        "rnn": {"type": "lstm", "hidden_size": 64, "num_layers": 1, "sequence_length": 16},
        "hiddens": [64],
    }
    action_space = DISCRETE if kind == "categorical" else BOX
    model = build_model("policy", description, OBSERVATIONS, action_space, torch.device("cpu"))
    assert model.get_specification()["rnn"] == {"sequence_length": 16, "sizes": [(1, 1, 64), (1, 1, 64)]}
    with pytest.raises(CLIError, match="models.policy: unknown rnn key 'size'"):
        build_model(
            "policy", {**description, "rnn": {"size": 3}}, OBSERVATIONS, action_space, torch.device("cpu")
        )
