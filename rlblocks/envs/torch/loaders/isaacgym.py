"""Isaac Gym loaders: preview 2 (the `rlgpu` examples) and preview 3/4 (IsaacGymEnvs).

Untested here: Isaac Gym needs an NVIDIA GPU and is not on the package registries. What is tested:
the task-name resolution and the ImportError naming the missing package and its install page.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rlblocks.envs.torch.loaders.common import (
    command_line_with,
    hydra_task_config,
    print_config,
    require,
    task_name_from,
    working_directory,
)

ISAACGYM_PAGE = "https://developer.nvidia.com/isaac-gym"
ISAACGYMENVS_PAGE = "https://github.com/isaac-sim/IsaacGymEnvs"


def load_isaacgym_env_preview2(
    task_name: str = "", isaacgymenvs_path: str = "", show_cfg: bool = True
) -> Any:
    """Load an Isaac Gym preview 2 task (`rlgpu`'s `VecTaskPython`), configured from the command line.

    Args:
        task_name: the task (e.g. "Cartpole"); the command line's `--task NAME` has priority.
        isaacgymenvs_path: the `rlgpu` directory (default: `<isaacgym package>/../rlgpu`).
        show_cfg: print the parsed arguments.

    Raises:
        ValueError: no task name, neither as argument nor on the command line.
        ImportError: isaacgym (or rlgpu's utils at the path) cannot be imported.
    """
    loader = "load_isaacgym_env_preview2"
    task = task_name_from(task_name, "--task")
    isaacgym = require("isaacgym", "isaacgym (Isaac Gym preview 2)", ISAACGYM_PAGE, loader)
    path = isaacgymenvs_path or os.path.join(next(iter(isaacgym.__path__)), "..", "rlgpu")
    if path not in sys.path:
        sys.path.append(path)
    config = require("utils.config", f"rlgpu (its utils at {path})", ISAACGYM_PAGE, loader)
    parse_task = require("utils.parse_task", f"rlgpu (its utils at {path})", ISAACGYM_PAGE, loader).parse_task
    with command_line_with("--task", task):
        args = config.get_args()
    if show_cfg:
        print_config(f"Isaac Gym environment ({args.task})", vars(args))
    args.cfg_train = os.path.join(path, args.cfg_train)
    args.cfg_env = os.path.join(path, args.cfg_env)
    with working_directory(path):
        cfg, cfg_train, _ = config.load_cfg(args)
        sim_params = config.parse_sim_params(args, cfg, cfg_train)
        _, env = parse_task(args, cfg, cfg_train, sim_params)
    return env


def load_isaacgym_env_preview3(
    task_name: str = "", isaacgymenvs_path: str = "", show_cfg: bool = True
) -> Any:
    """Load an IsaacGymEnvs task (`VecTask`), configured by Hydra from `key=value` command-line overrides.

    Args:
        task_name: the task (e.g. "Cartpole"); the command line's `task=NAME` has priority.
        isaacgymenvs_path: the `isaacgymenvs` directory (default: the installed package's).
        show_cfg: print the task's config.

    Raises:
        ValueError: no task name, neither as argument nor on the command line.
        ImportError: isaacgym, isaacgymenvs or hydra-core cannot be imported.
    """
    loader = "load_isaacgym_env_preview3/4"
    task = task_name_from(task_name, "task=")
    require("isaacgym", "isaacgym (Isaac Gym preview 3/4)", ISAACGYM_PAGE, loader)
    isaacgymenvs = require("isaacgymenvs", "isaacgymenvs (IsaacGymEnvs)", ISAACGYMENVS_PAGE, loader)
    path = isaacgymenvs_path or next(iter(isaacgymenvs.__path__))
    config = hydra_task_config(path, task)
    from omegaconf import OmegaConf

    task_config = OmegaConf.to_container(config.task, resolve=True)
    if show_cfg:
        print_config(f"Isaac Gym environment ({config.task.name})", task_config)
    task_map = require("isaacgymenvs.tasks", "isaacgymenvs", ISAACGYMENVS_PAGE, loader).isaacgym_task_map
    task_class = task_map[config.task.name]
    common = {
        "cfg": task_config,
        "sim_device": config.sim_device,
        "graphics_device_id": config.graphics_device_id,
        "headless": config.headless,
    }
    try:  # preview 4's VecTask
        return task_class(
            **common,
            rl_device=config.rl_device,
            virtual_screen_capture=config.capture_video,
            force_render=config.force_render,
        )
    except TypeError:  # preview 3's VecTask takes no rl_device
        return task_class(**common)


def load_isaacgym_env_preview4(
    task_name: str = "", isaacgymenvs_path: str = "", show_cfg: bool = True
) -> Any:
    """Load an IsaacGymEnvs task for Isaac Gym preview 4: `load_isaacgym_env_preview3`'s contract."""
    return load_isaacgym_env_preview3(task_name, isaacgymenvs_path, show_cfg)
