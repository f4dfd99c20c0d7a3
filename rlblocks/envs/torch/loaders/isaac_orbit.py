"""`load_isaac_orbit_env`: an Isaac Orbit task, configured from the command line.

Untested here: Orbit runs in Isaac Sim, which needs an NVIDIA GPU and is not on the package
registries. What is tested: the task-name resolution and the ImportError naming the missing package
and its install page.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rlblocks.envs.torch.loaders.common import print_config, require, task_name_from

ORBIT_PAGE = "https://isaac-orbit.github.io/orbit/source/setup/installation.html"


def load_isaac_orbit_env(task_name: str = "", show_cfg: bool = True) -> Any:
    """Load an Isaac Orbit task (`omni.isaac.orbit_envs`).

    `--num_envs N`, `--headless` and `--cpu` are read from the command line.

    Args:
        task_name: the task (e.g. "Isaac-Cartpole-v0"); the command line's `--task NAME` has priority.
        show_cfg: print the task's config.

    Raises:
        ValueError: no task name, neither as argument nor on the command line.
        ImportError: Orbit (omni.isaac.orbit_envs, with Isaac Sim's omni.isaac.kit) cannot be imported.
    """
    loader = "load_isaac_orbit_env"
    task = task_name_from(task_name, "--task")
    kit = require("omni.isaac.kit", "omni.isaac.kit (Isaac Sim, for Orbit)", ORBIT_PAGE, loader)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--num_envs", type=int, default=None)
    parser.add_argument("--headless", action="store_true")
    parser.add_argument("--cpu", action="store_true")
    args, _ = parser.parse_known_args(sys.argv[1:])
    kit.SimulationApp({"headless": args.headless})  # started before the Orbit modules are imported
    require("omni.isaac.orbit_envs", "omni.isaac.orbit_envs (Isaac Orbit)", ORBIT_PAGE, loader)
    utils = require("omni.isaac.orbit_envs.utils", "omni.isaac.orbit_envs", ORBIT_PAGE, loader)
    cfg = utils.parse_env_cfg(task, use_gpu=not args.cpu, num_envs=args.num_envs)
    if show_cfg:
        config = cfg.to_dict() if hasattr(cfg, "to_dict") else vars(cfg)
        print_config(f"Isaac Orbit environment ({task})", config)
    import gym

    return gym.make(task, cfg=cfg, headless=args.headless)
