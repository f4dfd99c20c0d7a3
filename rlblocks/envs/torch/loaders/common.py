"""What the Isaac loaders share: the task name, the missing-package error, the printed config.

The task name comes from the command line if it names one (`--task NAME` for Isaac Gym preview 2
and Orbit, Hydra's `task=NAME` for IsaacGymEnvs and OmniIsaacGymEnvs), which has priority over the
`task_name` argument, as in skrl 0.10. Unlike skrl 0.10, `sys.argv` is only extended for the time of
the load (`command_line_with`), not for the rest of the program.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from rlblocks import logger


def task_name_from(task_name: str, style: str) -> str:
    """The task to load: the command line's (`style` "--task" or "task="), else `task_name`.

    Raises:
        ValueError: neither names a task.
    """
    from_command_line = _task_on_command_line(style)
    if from_command_line:
        if task_name and task_name != from_command_line:
            logger.warning(f"Overriding task ({task_name}) with command line argument ({from_command_line})")
        return from_command_line
    if task_name:
        return task_name
    usage = "--task <task_name>" if style == "--task" else "task=<task_name>"
    raise ValueError(
        f"No task name defined. Set the task_name parameter (e.g. task_name='Cartpole') or use {usage} "
        "as command line argument."
    )


def _task_on_command_line(style: str) -> str:
    arguments = sys.argv[1:]
    if style == "task=":
        return next((argument.split("=", 1)[1] for argument in arguments if argument.startswith("task=")), "")
    if "--task" in arguments:
        index = arguments.index("--task") + 1
        return arguments[index] if index < len(arguments) else ""
    return next((argument.split("=", 1)[1] for argument in arguments if argument.startswith("--task=")), "")


@contextlib.contextmanager
def command_line_with(*arguments: str) -> Iterator[None]:
    """`sys.argv` extended by `arguments` (those not there already) inside the block, restored after."""
    saved = list(sys.argv)
    sys.argv.extend(argument for argument in arguments if argument not in sys.argv)
    try:
        yield
    finally:
        sys.argv[:] = saved


@contextlib.contextmanager
def working_directory(path: str) -> Iterator[None]:
    """The current directory set to `path` inside the block, restored after."""
    with contextlib.ExitStack() as restore:
        restore.callback(os.chdir, os.getcwd())
        os.chdir(path)
        yield


def require(module: str, package: str, install_page: str, loader: str) -> ModuleType:
    """Import `module`, or say which package `loader` needs and where to get it.

    Raises:
        ImportError: the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{loader} needs the {package} package, which cannot be imported here ({error}). It is not on "
            f"the package registries: install it as described at {install_page} (NVIDIA Isaac needs an "
            "NVIDIA GPU), then wrap the loaded env with rlblocks.envs.torch.wrap_env."
        ) from error


def print_config(title: str, config: Mapping[str, Any], indent: int = 0) -> None:
    """Print a (nested) config, one key per line, as skrl 0.10's loaders do with show_cfg."""
    if indent == 0:
        print(f"\n{title}")
    for key, value in config.items():
        if isinstance(value, Mapping):
            print("  |   " * indent + f"  |-- {key}:")
            print_config(title, value, indent + 1)
        else:
            print("  |   " * indent + f"  |-- {key}: {value}")


def hydra_config(config_dir: str, overrides: list[str]) -> Any:
    """Hydra's composition of `config_dir/config.yaml` with `overrides` (IsaacGymEnvs, OmniIsaacGymEnvs).

    The resolvers their configs use (eq, contains, if, resolve_default) are registered first.
    """
    hydra = require("hydra", "hydra-core", "https://hydra.cc/docs/intro/", "The Isaac loaders")
    from omegaconf import OmegaConf

    resolvers = {
        "eq": lambda x, y: x.lower() == y.lower(),
        "contains": lambda x, y: x.lower() in y.lower(),
        "if": lambda condition, a, b: a if condition else b,
        "resolve_default": lambda default, arg: default if arg == "" else arg,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
    with hydra.initialize_config_dir(config_dir=config_dir, version_base=None):
        return hydra.compose(config_name="config", overrides=overrides)


def hydra_task_config(package_dir: str, task: str) -> Any:
    """The Hydra config of `task` from `<package_dir>/cfg`, with the command line's `key=value` overrides."""
    overrides = [
        argument for argument in sys.argv[1:] if "=" in argument and not argument.startswith(("-", "task="))
    ]
    return hydra_config(os.path.join(package_dir, "cfg"), [f"task={task}", *overrides])
