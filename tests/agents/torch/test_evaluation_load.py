"""Loading a training checkpoint into an agent built only to act (no memory, so no optimizers)."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.helpers.off_policy import AGENT_NAMES, make_agent


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_evaluation_only_load_is_silent_and_restores_the_policy(tmp_path, name, caplog):
    trained, env = make_agent(name)
    path = str(tmp_path / "agent.pt")
    trained.save(path)
    acting, _ = make_agent(name, env=env, memory_size=0)
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        acting.load(path)
    assert any("Cannot load the" in record.getMessage() for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        acting.load(path, evaluation_only=True)
    assert not [record for record in caplog.records if "Cannot load" in record.getMessage()]
    role = "q_network" if name in ("dqn", "ddqn") else "policy"
    for live, saved in zip(acting.models[role].parameters(), trained.models[role].parameters(), strict=True):
        assert torch.equal(live, saved)
    env.close()
