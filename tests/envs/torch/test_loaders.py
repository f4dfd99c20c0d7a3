"""Isaac loaders: skrl 0.10's signatures, task names from the argument or the command line, and the
ImportError naming the missing package (none of the Isaac packages installs here)."""

import inspect
import sys

import pytest

import rlblocks.envs.torch as envs
from rlblocks.envs.torch.loaders.common import command_line_with, task_name_from

LOADERS = {
    "load_isaacgym_env_preview2": (["task_name", "isaacgymenvs_path", "show_cfg"], "isaacgym", "--task"),
    "load_isaacgym_env_preview3": (["task_name", "isaacgymenvs_path", "show_cfg"], "isaacgym", "task="),
    "load_isaacgym_env_preview4": (["task_name", "isaacgymenvs_path", "show_cfg"], "isaacgym", "task="),
    "load_omniverse_isaacgym_env": (
        ["task_name", "omniisaacgymenvs_path", "show_cfg", "multi_threaded", "timeout"],
        "omniisaacgymenvs",
        "task=",
    ),
    "load_isaac_orbit_env": (["task_name", "show_cfg"], "omni.isaac.kit", "--task"),
}
PACKAGE_MODULES = ("isaacgym", "isaacgymenvs", "omniisaacgymenvs", "omni")


@pytest.fixture
def bare_command_line(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py"])
    for name in PACKAGE_MODULES:
        if name in sys.modules:
            pytest.skip(f"{name} is importable here; these tests check the loaders without it")


@pytest.mark.parametrize("name", list(LOADERS))
def test_signatures_are_skrl_0_10s(name):
    parameters = inspect.signature(getattr(envs, name)).parameters
    assert list(parameters) == LOADERS[name][0]
    assert parameters["task_name"].default == "" and parameters["show_cfg"].default is True


@pytest.mark.parametrize("name", list(LOADERS))
def test_no_task_name_is_a_value_error(name, bare_command_line):
    usage = "--task <task_name>" if LOADERS[name][2] == "--task" else "task=<task_name>"
    with pytest.raises(ValueError, match=f"No task name defined.*{usage}"):
        getattr(envs, name)()


@pytest.mark.parametrize("name", list(LOADERS))
def test_a_missing_package_is_an_import_error_naming_it_and_its_install_page(name, bare_command_line):
    with pytest.raises(
        ImportError, match=rf"needs the {LOADERS[name][1]}.* install it as described at https://"
    ):
        getattr(envs, name)(task_name="Cartpole")


def test_the_command_line_task_has_priority(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "task=Ant", "num_envs=8"])
    assert task_name_from("Cartpole", "task=") == "Ant"
    monkeypatch.setattr(sys, "argv", ["train.py", "--task", "Humanoid"])
    assert task_name_from("Cartpole", "--task") == "Humanoid"
    monkeypatch.setattr(sys, "argv", ["train.py", "--task"])
    with pytest.raises(ValueError, match="No task name defined"):
        task_name_from("", "--task")
    monkeypatch.setattr(sys, "argv", ["train.py"])
    assert task_name_from("Cartpole", "task=") == "Cartpole"


def test_the_command_line_is_restored_after_the_load(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "--headless"])
    with command_line_with("--task", "Cartpole"):
        assert sys.argv == ["train.py", "--headless", "--task", "Cartpole"]
    assert sys.argv == ["train.py", "--headless"]
