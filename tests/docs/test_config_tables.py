"""The docs' config tables are generated from the typed configs and their attribute docstrings."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from rlblocks.agents.torch.ppo import PPO_DEFAULT_CONFIG
from rlblocks.agents.torch.sac import SAC_DEFAULT_CONFIG

HOOK = pathlib.Path(__file__).parents[2] / "docs" / "hooks" / "config_tables.py"


@pytest.fixture(scope="module")
def hook():
    spec = importlib.util.spec_from_file_location("config_tables", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_placeholder_becomes_one_row_per_key_with_default_and_description(hook):
    page = hook.on_page_markdown(
        "before\n<!-- config-table: rlblocks.agents.torch.ppo.config.PPOConfig -->\nafter"
    )
    lines = page.splitlines()
    assert lines[0] == "before" and lines[-1] == "after"
    assert lines[1] == "| key | default | description |"
    assert "| `ratio_clip` | `0.2` | ε of the clipped surrogate (> 0). |" in lines
    assert '| `lambda` | `0.95` | GAE λ in [0, 1]. Public dict key: "lambda" (a Python keyword). |' in lines
    keys = {line.split("`")[1] for line in lines[3:-1]}
    flat = set(PPO_DEFAULT_CONFIG) - {"experiment"}
    nested = {f"experiment.{key}" for key in PPO_DEFAULT_CONFIG["experiment"]}
    assert keys == flat | nested


def test_nested_sections_of_other_agents_are_listed_with_dotted_keys(hook):
    table = hook.config_table("rlblocks.agents.torch.sac.config.SACConfig")
    for key in SAC_DEFAULT_CONFIG["experiment"]:
        assert f"| `experiment.{key}` |" in table
