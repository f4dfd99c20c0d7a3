"""`load_omniverse_isaacgym_env`: an OmniIsaacGymEnvs task in Omniverse Isaac Sim.

Only the task-name resolution and the missing-package ImportError are tested on these machines
(Isaac Sim runs on NVIDIA GPUs and is installed from NVIDIA); the loading itself follows
OmniIsaacGymEnvs' own training script.
"""

from __future__ import annotations

from typing import Any

from rlblocks.envs.torch.loaders.common import hydra_task_config, print_config, require, task_name_from

OMNIISAACGYMENVS_PAGE = "https://github.com/isaac-sim/OmniIsaacGymEnvs"


def load_omniverse_isaacgym_env(
    task_name: str = "",
    omniisaacgymenvs_path: str = "",
    show_cfg: bool = True,
    multi_threaded: bool = False,
    timeout: int = 30,
) -> Any:
    """Load an Omniverse Isaac Gym task, configured by Hydra from `key=value` command-line overrides.

    Args:
        task_name: the task (e.g. "Cartpole"); the command line's `task=NAME` has priority.
        omniisaacgymenvs_path: the `omniisaacgymenvs` directory (default: the installed package's).
        show_cfg: print the task's config.
        multi_threaded: build OmniIsaacGymEnvs' multi-threaded env (`VecEnvRLGamesMT`), whose
            `run(trainer)` the wrapper forwards.
        timeout: seconds the multi-threaded env waits for the trainer's data.

    Raises:
        ValueError: no task name, neither as argument nor on the command line.
        ImportError: omniisaacgymenvs (or Isaac Sim's omni.isaac.gym, or hydra-core) cannot be imported.
    """
    loader = "load_omniverse_isaacgym_env"
    task = task_name_from(task_name, "task=")
    package = require(
        "omniisaacgymenvs", "omniisaacgymenvs (OmniIsaacGymEnvs)", OMNIISAACGYMENVS_PAGE, loader
    )
    require("omni.isaac.gym.vec_env", "omni.isaac.gym (Isaac Sim)", OMNIISAACGYMENVS_PAGE, loader)
    path = omniisaacgymenvs_path or next(iter(package.__path__))
    config = hydra_task_config(path, task)
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(config, resolve=True)
    if show_cfg:
        print_config(f"Omniverse Isaac Gym environment ({config.task.name})", cfg["task"])
    if multi_threaded:
        module = require(
            "omniisaacgymenvs.envs.vec_env_rlgames_mt", "omniisaacgymenvs", OMNIISAACGYMENVS_PAGE, loader
        )
        env = module.VecEnvRLGamesMT(headless=config.headless, sim_device=config.device_id)
    else:
        module = require(
            "omniisaacgymenvs.envs.vec_env_rlgames", "omniisaacgymenvs", OMNIISAACGYMENVS_PAGE, loader
        )
        env = module.VecEnvRLGames(headless=config.headless, sim_device=config.device_id)
    initialize_task = require(
        "omniisaacgymenvs.utils.task_util", "omniisaacgymenvs", OMNIISAACGYMENVS_PAGE, loader
    )
    initialize_task.initialize_task(cfg, env, init_sim=not multi_threaded)
    if multi_threaded:
        import queue

        env.initialize(action_queue=queue.Queue(1), data_queue=queue.Queue(1), timeout=timeout)
    return env
