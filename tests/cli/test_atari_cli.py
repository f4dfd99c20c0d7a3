"""The CLI on Atari: standard preprocessing, short DQN and PPO runs on Pong, export parity, --env-package."""

from __future__ import annotations

import pytest
import torch
import yaml

pytest.importorskip("ale_py", reason="Atari tests need ale-py: pip install 'rlblocks[atari]'")
pytest.importorskip("cv2", reason="AtariPreprocessing needs opencv-python: pip install 'rlblocks[atari]'")

from rlblocks.cli import build, export, train
from rlblocks.cli import config as run_config
from rlblocks.cli.registry import CLIError

PONG = "ALE/Pong-v5"


def short_run(tmp_path, algo, overrides, timesteps):
    config_file = tmp_path / f"{algo}.yaml"
    config_file.write_text(yaml.safe_dump(overrides))
    run_dir = tmp_path / f"{algo}_run"
    result = train.train(
        algo=algo,
        env=PONG,
        config_file=str(config_file),
        timesteps=timesteps,
        device="cpu",
        run_dir=str(run_dir),
        progress_bar=False,
    )
    return result, run_dir


def test_the_cli_applies_the_standard_atari_preprocessing():
    config = run_config.resolve("dqn", PONG, overrides={"num_envs": 2})
    environment = build.make_env(config)
    try:
        states, _ = environment.reset()
        assert states.dtype == torch.uint8 and states.shape == (2, 4, 84, 84)
        assert environment.observation_space.shape == (4, 84, 84)
        assert environment.action_space.n == 6
    finally:
        environment.close()


def test_the_pong_configs_are_found_under_their_slash_free_names():
    for algo in ("dqn", "ppo"):
        config = run_config.resolve(algo, PONG)
        assert config.models[next(iter(config.models))]["encoder"] == {"type": "nature_cnn"}
    assert run_config.pair_name("dqn", PONG) == "dqn_ALE-Pong-v5"


def test_dqn_pong_smoke_run_exports_with_parity(tmp_path):
    overrides = {
        "memory": {"memory_size": 300},
        "agent": {"learning_starts": 200, "update_interval": 4, "batch_size": 8},
    }
    result, run_dir = short_run(tmp_path, "dqn", overrides, timesteps=300)
    assert result.timestep == 300 and not result.interrupted
    for export_format in ("torchscript", "onnx"):
        exported = export.export(str(run_dir), format=export_format)
        assert exported.matches, exported.max_abs_difference


def test_ppo_pong_smoke_run(tmp_path):
    overrides = {"num_envs": 2, "agent": {"rollouts": 64, "learning_epochs": 1, "mini_batches": 2}}
    result, run_dir = short_run(tmp_path, "ppo", overrides, timesteps=128)
    assert result.timestep == 128 and not result.interrupted
    exported = export.export(str(run_dir), format="torchscript")
    assert exported.matches


def test_env_package_imports_by_name_only_and_explains_failures():
    build.import_env_packages(["ale_py"])  # registers the ALE ids
    with pytest.raises(CLIError, match="importing it failed.*no_such_package_here"):
        build.import_env_packages(["no_such_package_here"])
    with pytest.raises(CLIError, match="is not a Python module name"):
        build.import_env_packages(["os; rm -rf /"])


def test_image_models_without_an_encoder_get_the_nature_cnn_unless_it_is_null():
    import numpy as np
    from gymnasium import spaces

    from rlblocks.cli.models import build_model

    frames = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    model = build_model("policy", {"kind": "categorical", "hiddens": [8]}, frames, spaces.Discrete(6), "cpu")
    assert model.encoder is not None and model.encoder.output_features == 512
    flat = build_model("policy", {"kind": "categorical", "hiddens": [8], "encoder": None}, frames, 6, "cpu")
    assert flat.encoder is None and flat.net[0].in_features == 4 * 84 * 84
    vector = build_model("policy", {"kind": "categorical", "hiddens": [8]}, spaces.Box(-1, 1, (3,)), 6, "cpu")
    assert vector.encoder is None
