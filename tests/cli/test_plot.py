"""`rlblocks plot`: legends that tell configs apart, bands clipped to the data's range, env-step axis."""

from __future__ import annotations

import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

from rlblocks.cli import config as run_config
from rlblocks.cli import plot
from rlblocks.cli import run_dir as runs


def make_run(path, values, steps, **agent_overrides):
    """A run directory with a config.yaml (PPO CartPole-v1) and one TensorBoard return series."""
    config = run_config.resolve(
        "ppo", "CartPole-v1", overrides={"agent": agent_overrides} if agent_overrides else None
    )
    runs.save_config(str(path), config)
    writer = SummaryWriter(log_dir=str(path))
    for step, value in zip(steps, values, strict=True):
        writer.add_scalar(plot.RETURN_TAG, value, step)
    writer.close()
    return str(path)


def test_the_band_is_mean_plus_minus_std_clipped_to_the_values_reached():
    curves = [
        plot.Curve("a", np.array([0, 10]), np.array([100.0, 500.0])),
        plot.Curve("b", np.array([0, 10]), np.array([200.0, 500.0])),
        plot.Curve("c", np.array([0, 10]), np.array([300.0, 420.0])),
    ]
    steps, mean, low, high = plot.band(curves)
    assert steps.tolist() == [0, 10]
    assert mean.tolist() == pytest.approx([200.0, 473.3333333])
    std = np.std([500.0, 500.0, 420.0])
    assert high.tolist() == pytest.approx([200.0 + np.std([100, 200, 300]), 500.0])  # not 473 + 37.7
    assert low.tolist() == pytest.approx([200.0 - np.std([100, 200, 300]), 473.3333333 - std])


def test_runs_of_different_configs_get_legends_naming_the_differing_keys(tmp_path):
    labels = plot._labels(
        {
            "k1": ("ppo CartPole-v1", {"agent.learning_rate": 0.001, "agent.rollouts": 16}, []),
            "k2": ("ppo CartPole-v1", {"agent.learning_rate": 0.0003, "agent.rollouts": 16}, []),
            "k3": ("sac Pendulum-v1", {"agent.learning_rate": 0.001}, []),
        }
    )
    assert labels == {
        "k1": "ppo CartPole-v1 (learning_rate=0.001)",
        "k2": "ppo CartPole-v1 (learning_rate=0.0003)",
        "k3": "sac Pendulum-v1",
    }


def test_plot_groups_seeds_and_separates_configs(tmp_path):
    steps = [800, 1600, 2400]
    run_dirs = [
        make_run(tmp_path / "a", [10, 20, 30], steps, learning_rate=1e-3),
        make_run(tmp_path / "b", [12, 22, 32], steps, learning_rate=1e-3),
        make_run(tmp_path / "c", [5, 6, 7], steps, learning_rate=3e-4),
    ]
    groups = {}
    for run in run_dirs:
        label, key, config = plot._group_key(run)
        groups.setdefault(key, (label, config, []))[2].append(run)
    assert sorted(len(group[2]) for group in groups.values()) == [1, 2]
    assert sorted(plot._labels(groups).values()) == [
        "ppo CartPole-v1 (learning_rate=0.0003)",
        "ppo CartPole-v1 (learning_rate=0.001)",
    ]
    output = plot.plot_runs(run_dirs, str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 1000 and output.endswith("curves.png")
