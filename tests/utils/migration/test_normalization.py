"""Normalisation statistics come along, exactly, into RunningStandardScaler form."""

from __future__ import annotations

import pathlib
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.migration import NormalizationStatistics, load_normalization
from rlblocks.utils.migration.inert_pickle import Inert, inert_load
from tests.utils.migration.models import GaussianPolicy, Value

DATA = pathlib.Path(__file__).parents[2] / "data" / "checkpoints"
PENDULUM = (gym.spaces.Box(-8, 8, (3,)), gym.spaces.Box(-2, 2, (1,)))


class CreatesMarker:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def statistics(mean, variance, epsilon=0.0, clip=5.0):
    return NormalizationStatistics(
        mean=torch.tensor(mean, dtype=torch.float64),
        variance=torch.tensor(variance, dtype=torch.float64),
        count=torch.tensor(10.0, dtype=torch.float64),
        epsilon=epsilon,
        clip_threshold=clip,
    )


def test_formulas_on_hand_computed_numbers():
    """mean [1, 2], variance [4, 9]: (3-1)/2 = 1; (50-2)/3 = 16 clamps to 5; inverse 2*1+1 = 3, 3*5+2 = 17."""
    stats = statistics([1.0, 2.0], [4.0, 9.0])
    assert stats.normalize(torch.tensor([[3.0, 50.0]])).tolist() == [[1.0, 5.0]]
    assert stats.denormalize(torch.tensor([[1.0, 7.0]])).tolist() == [[3.0, 17.0]]
    with_epsilon = statistics([0.0], [4.0], epsilon=2.0)
    assert with_epsilon.normalize(torch.tensor([[8.0]])).tolist() == [[2.0]]  # 8 / (2 + 2)


def test_rl_games_statistics_in_scaler_form():
    normalization = load_normalization(path=str(DATA / "rlg_ppo_continuous_pendulum.pth"))
    model = torch.load(DATA / "rlg_ppo_continuous_pendulum.groundtruth.pt", weights_only=True)[
        "model_state_dict"
    ]
    observations, values = normalization.observations, normalization.values
    assert torch.equal(observations.mean, model["running_mean_std.running_mean"])
    assert torch.equal(observations.variance, model["running_mean_std.running_var"] + 1e-5)
    assert torch.equal(observations.count, model["running_mean_std.count"])
    assert (observations.epsilon, observations.clip_threshold, observations.size) == (0.0, 5.0, 3)
    assert torch.equal(values.variance, model["value_mean_std.running_var"] + 1e-5)
    assert values.origin == "rl_games value_mean_std"


@pytest.mark.parametrize("batch", ["", "_ood"])
def test_scalers_built_from_rl_games_statistics_reproduce_rl_games(batch):
    truth = torch.load(DATA / "rlg_ppo_continuous_pendulum.groundtruth.pt", weights_only=True)
    outputs = truth[f"outputs{batch}"]
    normalization = load_normalization(path=str(DATA / "rlg_ppo_continuous_pendulum.pth"))
    state_preprocessor = normalization.observations.to_scaler(device="cpu")
    value_preprocessor = normalization.values.to_scaler(device="cpu")
    assert isinstance(state_preprocessor, RunningStandardScaler)
    states = state_preprocessor(truth[f"obs{batch}"])
    torch.testing.assert_close(states, outputs["obs_normalized"], atol=1e-5, rtol=0)
    value = Value(*PENDULUM, nn.ELU)
    assert value.migrate(path=str(DATA / "rlg_ppo_continuous_pendulum.pth"))
    values = value_preprocessor(value.act({"states": states}, "value")[0], inverse=True)
    # out of distribution values reach 89, where a float32 step is 7.6e-6: allow ~8 steps there
    torch.testing.assert_close(values, outputs["value"], atol=1e-5, rtol=1e-6 if batch else 0)


def test_load_into_an_existing_scaler_sets_its_epsilon_and_clip():
    scaler = RunningStandardScaler(3, device="cpu")
    stats = load_normalization(path=str(DATA / "rlg_ppo_continuous_pendulum.pth")).observations
    stats.load_into(scaler)
    assert (scaler.epsilon, scaler.clip_threshold) == (0.0, 5.0)
    assert torch.equal(scaler.running_variance, stats.variance)
    with pytest.raises(
        ValueError, match=r"the scaler normalises \(4,\) features but the rl_games running_mean_std"
    ):
        stats.load_into(RunningStandardScaler(4, device="cpu"))


def test_compiled_rl_games_statistics_are_found(tmp_path):
    model = torch.load(DATA / "rlg_ppo_discrete_cartpole.groundtruth.pt", weights_only=True)[
        "model_state_dict"
    ]
    compiled = {f"_orig_mod.{name}": tensor for name, tensor in model.items()}
    normalization = load_normalization(state_dict={"model": compiled, "epoch": 1})
    assert torch.equal(normalization.observations.mean, model["running_mean_std.running_mean"])


@pytest.mark.parametrize("batch", ["", "_ood"])
def test_sb3_vec_normalize_pickle_is_read_without_running_it(batch):
    """Fixture from make_extra_fixtures.py: SB3's own normalize_obs on the stored batches (clip_obs 4)."""
    truth = torch.load(DATA / "sb3_vecnormalize_cartpole.groundtruth.pt", weights_only=True)
    stats = load_normalization(path=str(DATA / "sb3_vecnormalize_cartpole.pkl")).observations
    assert stats.clip_threshold == truth["clip_obs"] == 4.0
    assert torch.allclose(stats.variance, truth["obs_rms"]["var"] + truth["epsilon"], rtol=0, atol=0)
    scaler = stats.to_scaler(device="cpu")
    normalized = truth[f"normalized{batch}"].float()
    torch.testing.assert_close(scaler(truth[f"obs{batch}"]), normalized, atol=1e-5, rtol=0)
    if batch:
        assert (normalized.abs() == 4.0).any()  # the clip is exercised


def test_sb3_zip_holds_no_statistics():
    normalization = load_normalization(path=str(DATA / "sb3_ppo_pendulum.zip"))
    assert normalization.observations is None and normalization.values is None


def test_agent_checkpoint_preprocessor_state():
    scaler = RunningStandardScaler(3, device="cpu")
    scaler(torch.arange(12.0).reshape(4, 3), train=True)
    checkpoint = {
        "policy": GaussianPolicy(*PENDULUM, nn.Tanh).state_dict(),
        "state_preprocessor": scaler.state_dict(),
    }
    stats = load_normalization(state_dict=checkpoint).observations
    assert torch.equal(stats.mean, scaler.running_mean) and torch.equal(stats.count, scaler.current_count)
    assert (stats.epsilon, stats.clip_threshold) == (1e-8, 5.0)
    assert load_normalization(state_dict=checkpoint).values is None


# ------------------------------------------------------------------ inert pickle
def test_inert_unpickler_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    loaded = inert_load(pickle.dumps({"x": CreatesMarker(marker), "a": np.arange(3.0)}))
    assert not marker.exists()
    assert isinstance(loaded["x"], Inert) and loaded["x"].qualified_name == "io.open"
    assert loaded["x"].args == (str(marker), "w")
    assert loaded["a"].tolist() == [0.0, 1.0, 2.0]


def test_a_malicious_pickle_is_not_taken_for_vec_normalize(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "vec_normalize.pkl"
    path.write_bytes(pickle.dumps({"VecNormalize": CreatesMarker(marker)}))
    with pytest.raises(CheckpointError, match=r"refused to load .*vec_normalize.pkl.*it holds io.open"):
        load_normalization(path=str(path))
    assert not marker.exists()
