"""Reading sources: formats recognised from the content, every error message, and no code ever run."""

from __future__ import annotations

import base64
import io
import json
import pathlib
import pickle
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.migration.sources import read_source
from tests.utils.migration.models import GaussianPolicy

DATA = pathlib.Path(__file__).parents[2] / "data" / "checkpoints"
PENDULUM = (gym.spaces.Box(-8, 8, (3,)), gym.spaces.Box(-2, 2, (1,)))


class CreatesMarker:
    """Unpickling this object (only possible with arbitrary unpickling) creates the marker file."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def policy():
    return GaussianPolicy(*PENDULUM, nn.Tanh)


# ------------------------------------------------------------------- formats
def test_sb3_zip_is_recognised_by_content_whatever_its_extension(tmp_path):
    renamed = tmp_path / "policy_weights.bin"
    renamed.write_bytes((DATA / "sb3_ppo_pendulum.zip").read_bytes())
    source = read_source(None, renamed)
    assert source.library == "stable-baselines3"
    assert list(source.tensors)[:2] == ["log_std", "mlp_extractor.policy_net.0.weight"]


def test_rl_games_file_with_numpy_scalar_loads_weights_only():
    source = read_source(None, DATA / "rlg_ppo_continuous_pendulum.pth")
    assert source.library == "rl_games"
    assert len(source.tensors) == 15
    assert "epoch" not in source.tensors and "optimizer.state.0.exp_avg" not in source.tensors


def test_rl_games_file_written_under_numpy_1_names_loads(tmp_path):
    """numpy 1.x pickles the scalar reconstructor as numpy.core.multiarray.scalar."""
    path = tmp_path / "numpy2.pth"
    torch.save(
        {"model": {"a2c_network.mu.weight": torch.ones(1, 2)}, "last_mean_rewards": np.float32(3.5)}, path
    )
    old_path = tmp_path / "numpy1.pth"
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(old_path, "w", zipfile.ZIP_STORED) as rewritten:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename.endswith("data.pkl"):
                assert b"numpy._core.multiarray" in data
                data = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
            rewritten.writestr(item, data)
    assert read_source(None, old_path).tensors["a2c_network.mu.weight"].tolist() == [[1.0, 1.0]]


def test_plain_state_dict_file_and_nested_agent_checkpoint(tmp_path):
    model = policy()
    optimizer = torch.optim.Adam(model.parameters())
    model(  # one step so the optimizer state holds moment tensors shaped like the parameters
        {"states": torch.zeros(1, 3)}, role="policy"
    )[1].sum().backward()
    optimizer.step()
    torch.save({"policy": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "agent.pt")
    source = read_source(None, tmp_path / "agent.pt")
    assert source.library == "torch"
    assert list(source.tensors) == [f"policy.{name}" for name in model.state_dict()]


def test_in_memory_whole_rl_games_checkpoint_is_recognised():
    checkpoint = {"model": {"a2c_network.sigma": torch.zeros(1)}, "epoch": 3, "optimizer": {}}
    assert read_source(checkpoint, None).library == "rl_games"
    assert list(read_source(checkpoint, None).tensors) == ["a2c_network.sigma"]


# -------------------------------------------------------------------- errors
def test_neither_or_both_sources_is_a_value_error():
    with pytest.raises(
        ValueError, match=r"Exactly one of state_dict or path may be specified \(got neither\)"
    ):
        policy().migrate()
    with pytest.raises(ValueError, match=r"Exactly one of state_dict or path may be specified \(got both\)"):
        policy().migrate(state_dict={}, path=str(DATA / "sb3_ppo_pendulum.zip"))


def test_missing_file(tmp_path):
    with pytest.raises(
        CheckpointError, match=r"cannot migrate from .*nothing.pth.*: no such file; supported: "
    ):
        policy().migrate(path=str(tmp_path / "nothing.pth"))


def test_unreadable_file_says_what_is_supported(tmp_path):
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    with pytest.raises(
        ValueError, match=r"it is not a readable torch file .*; supported: a stable-baselines3 .zip"
    ):
        policy().migrate(path=str(tmp_path / "notes.pth"))


def test_zip_without_policy_member(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("readme.txt", "hello")
    with pytest.raises(
        ValueError, match=r"a zip archive without a 'policy.pth' member \(members: \['data', 'readme.txt'\]\)"
    ):
        policy().migrate(path=str(tmp_path / "other.zip"))


def test_file_holding_no_state_dict(tmp_path):
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"it holds a list, not a state dict; supported: "):
        policy().migrate(path=str(tmp_path / "list.pt"))
    torch.save({"epoch": 3, "name": "run"}, tmp_path / "empty.pt")
    with pytest.raises(ValueError, match=r"it holds no tensors \(\{'epoch': int, 'name': str\}\)"):
        policy().migrate(path=str(tmp_path / "empty.pt"))


def test_vec_normalize_pickle_given_to_migrate_points_to_load_normalization():
    with pytest.raises(
        ValueError, match=r"VecNormalize pickle: it holds normalisation statistics, not weights"
    ):
        policy().migrate(path=str(DATA / "sb3_vecnormalize_cartpole.pkl"))


# -------------------------------------------------------------------- safety
def test_malicious_torch_file_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"model": {"w": torch.zeros(1)}, "payload": CreatesMarker(marker)}, tmp_path / "evil.pth")
    with pytest.raises(
        CheckpointError,
        match=r"refused to load .*: it holds io.open, a function that could run code",
    ):
        policy().migrate(path=str(tmp_path / "evil.pth"))
    assert not marker.exists()
    torch.load(tmp_path / "evil.pth", weights_only=False)  # control: an unsafe load does run it
    assert marker.exists()


def test_refusal_never_advises_weights_only_false(tmp_path):
    torch.save({"payload": CreatesMarker(tmp_path / "pwned")}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match=r"get the file again from a source you trust") as caught:
        policy().migrate(path=str(tmp_path / "evil.pth"))
    assert "weights_only=False" not in str(caught.value) and "will likely succeed" not in str(caught.value)


def test_malicious_raw_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"w": CreatesMarker(marker)}, protocol=2))
    with pytest.raises(CheckpointError, match=r"refused to load .*: it holds io.open, "):
        policy().migrate(path=str(tmp_path / "evil.pkl"))
    assert not marker.exists()


def test_malicious_policy_member_of_an_sb3_zip_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = io.BytesIO()
    torch.save({"w": CreatesMarker(marker)}, payload)
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("policy.pth", payload.getvalue())
    with pytest.raises(CheckpointError, match=r"refused to load .*evil.zip:policy.pth"):
        policy().migrate(path=str(tmp_path / "evil.zip"))
    assert not marker.exists()


def test_sb3_data_member_is_never_unpickled(tmp_path):
    """SB3's own loader cloudpickle-loads `data`; migrate reads only policy.pth."""
    marker = tmp_path / "pwned"
    serialized = base64.b64encode(pickle.dumps(CreatesMarker(marker))).decode()
    with zipfile.ZipFile(DATA / "sb3_ppo_pendulum.zip") as original:
        members = {name: original.read(name) for name in original.namelist()}
    members["data"] = json.dumps({"policy_class": {":type:": "<class 'type'>", ":serialized:": serialized}})
    with zipfile.ZipFile(tmp_path / "tampered.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert GaussianPolicy(*PENDULUM, nn.Tanh).migrate(path=str(tmp_path / "tampered.zip")) is True
    assert not marker.exists()


def flip_byte_of_member(path: pathlib.Path, member: str) -> None:
    """Flip one byte in the middle of a stored zip member's data (its CRC then no longer matches)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("fixture", "member"),
    [("sb3_ppo_pendulum.zip", "policy.pth"), ("rlg_ppo_continuous_pendulum.pth", None)],
)
def test_a_flipped_byte_in_an_sb3_or_rl_games_file_is_refused_by_its_crc(tmp_path, fixture, member):
    damaged = tmp_path / fixture
    damaged.write_bytes((DATA / fixture).read_bytes())
    read_source(None, damaged)  # the intact copy reads
    with zipfile.ZipFile(damaged) as archive:
        member = member or max(archive.infolist(), key=lambda info: info.compress_size).filename
    flip_byte_of_member(damaged, member)
    with pytest.raises(CheckpointError, match=r"does not match its CRC-32|damaged zip archive"):
        read_source(None, damaged)
