"""`rlblocks migrate` attaches SB3 VecNormalize statistics, given (--vecnormalize) or found beside the zip."""

from __future__ import annotations

import pathlib
import shutil

import pytest
import torch

from rlblocks.cli import migrate as migration
from rlblocks.cli.evaluate import load_agent
from rlblocks.cli.registry import CLIError

DATA = pathlib.Path(__file__).parents[1] / "data" / "checkpoints"
GROUND_TRUTH = torch.load(DATA / "sb3_vecnormalize_cartpole.groundtruth.pt", weights_only=True)


def zip_beside(tmp_path, statistics_name=None):
    """The SB3 PPO CartPole zip in its own folder, with the VecNormalize pickle under ``statistics_name``."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    shutil.copy(DATA / "sb3_ppo_cartpole.zip", folder / "CartPole-v1.zip")
    if statistics_name:
        shutil.copy(DATA / "sb3_vecnormalize_cartpole.pkl", folder / statistics_name)
    return folder / "CartPole-v1.zip"


def normalised_by_the_migrated_agent(run_dir, observations):
    agent, *_ = load_agent(run_dir)
    return agent._state_preprocessor(observations.float())


@pytest.mark.parametrize("name", migration.VEC_NORMALIZE_NAMES)
def test_statistics_beside_the_zip_are_found_and_normalise_as_sb3_does(tmp_path, name):
    result = migration.migrate(str(zip_beside(tmp_path, name)), run_dir=str(tmp_path / "run"))
    assert any("VecNormalize statistics" in note for note in result.plan.notes)
    for raw, expected in (("obs", "normalized"), ("obs_ood", "normalized_ood")):  # in range and clipped
        normalised = normalised_by_the_migrated_agent(result.run_dir, GROUND_TRUTH[raw])
        torch.testing.assert_close(normalised, GROUND_TRUTH[expected].float(), atol=1e-5, rtol=1e-5)


def test_statistics_given_explicitly_and_a_zip_without_them(tmp_path):
    zip_path = zip_beside(tmp_path)
    plain = migration.migrate(str(zip_path), run_dir=str(tmp_path / "plain"))
    assert plain.plan.agent.get("state_preprocessor") is None
    given = migration.migrate(
        str(zip_path),
        run_dir=str(tmp_path / "given"),
        vecnormalize=str(DATA / "sb3_vecnormalize_cartpole.pkl"),
    )
    normalised = normalised_by_the_migrated_agent(given.run_dir, GROUND_TRUTH["obs"])
    torch.testing.assert_close(normalised, GROUND_TRUTH["normalized"].float(), atol=1e-5, rtol=1e-5)


def test_a_wrong_vecnormalize_file_is_a_clear_error(tmp_path):
    zip_path = zip_beside(tmp_path)
    with pytest.raises(CLIError, match="is not a stable-baselines3 VecNormalize pickle"):
        migration.migrate(str(zip_path), run_dir=str(tmp_path / "a"), vecnormalize=str(zip_path))
    with pytest.raises(CLIError, match="does not exist"):
        migration.migrate(str(zip_path), run_dir=str(tmp_path / "b"), vecnormalize=str(tmp_path / "none.pkl"))
    with pytest.raises(CLIError, match="is for stable-baselines3 checkpoints"):
        migration.migrate(
            str(DATA / "rlg_ppo_discrete_cartpole.pth"),
            run_dir=str(tmp_path / "c"),
            vecnormalize=str(DATA / "sb3_vecnormalize_cartpole.pkl"),
        )
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()
