"""download_model_from_huggingface offline, against a cache laid out as the Hub's."""

import importlib
import os
import pickle

import pytest
import torch

from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.huggingface import download_model_from_huggingface, load_model_from_huggingface

huggingface_hub = pytest.importorskip(
    "huggingface_hub", reason="huggingface_hub comes with the [huggingface] extra"
)

REVISION = "0123456789abcdef0123456789abcdef01234567"


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A cache with models--org--cartpole: refs/main -> REVISION, snapshots/REVISION/{agent.pt, evil.pt}."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(importlib.import_module("huggingface_hub.constants"), "HF_HUB_OFFLINE", True)
    repository = tmp_path / "models--org--cartpole"
    snapshot = repository / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    (repository / "refs").mkdir()
    (repository / "refs" / "main").write_text(REVISION)
    torch.save({"policy": {"net.0.weight": torch.arange(6.0).reshape(2, 3)}}, snapshot / "agent.pt")
    (snapshot / "evil.pt").write_bytes(pickle.dumps(Payload()))
    return tmp_path


def test_returns_the_cached_file_path(hub_cache):
    path = download_model_from_huggingface("org/cartpole", "agent.pt", cache_dir=str(hub_cache))
    assert path == str(hub_cache / "models--org--cartpole" / "snapshots" / REVISION / "agent.pt")


def test_the_default_filename_is_agent_pt(hub_cache):
    assert download_model_from_huggingface("org/cartpole", cache_dir=str(hub_cache)).endswith("agent.pt")


def test_loading_is_weights_only(hub_cache):
    state = load_model_from_huggingface("org/cartpole", cache_dir=str(hub_cache))
    assert torch.equal(state["policy"]["net.0.weight"], torch.arange(6.0).reshape(2, 3))
    with pytest.raises(CheckpointError, match="refused to load"):
        load_model_from_huggingface("org/cartpole", "evil.pt", cache_dir=str(hub_cache))


def test_a_file_missing_offline_is_huggingface_hubs_error(hub_cache):
    with pytest.raises(importlib.import_module("huggingface_hub.errors").LocalEntryNotFoundError):
        download_model_from_huggingface("org/cartpole", "other.pt", cache_dir=str(hub_cache))


def test_a_bad_repo_id_names_the_expected_form():
    with pytest.raises(ValueError, match="repo_id should be 'organisation/name'.*got 'cartpole'"):
        download_model_from_huggingface("cartpole")
