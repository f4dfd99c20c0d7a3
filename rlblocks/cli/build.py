"""Environment, agent and memory from a `RunConfig`: shared by train, eval, export and migrate."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium
import torch

from rlblocks.agents.torch.config import AgentConfig
from rlblocks.cli import config as run_config
from rlblocks.cli import registry
from rlblocks.cli.models import build_models
from rlblocks.cli.registry import CLIError
from rlblocks.config import torch as torch_config
from rlblocks.envs.torch.atari import ATARI_EXTRA, atari_wrappers, is_atari_env, register_atari_envs
from rlblocks.utils import spaces
from rlblocks.utils.seeding import rank_seed, set_seed

ENV_PACKAGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def import_env_packages(names: Sequence[str]) -> None:
    """Import the packages named by ``--env-package`` so that they register their environments.

    Only names given on the command line are imported (a config file never names code to run).

    Raises:
        CLIError: a name that is not a module path, or a package whose import fails.
    """
    for name in names:
        if not ENV_PACKAGE_NAME.match(name):
            raise CLIError(
                f"--env-package {name!r} is not a Python module name; give a package that registers "
                "gymnasium environments when imported, e.g. --env-package ale_py or --env-package my_envs"
            )
        try:
            module = importlib.import_module(name)
        except Exception as error:  # a user's package may raise anything while importing
            raise CLIError(
                f"--env-package {name!r}: importing it failed ({type(error).__name__}: {error}); "
                f"install it (pip install ...) or check the name"
            ) from None
        gymnasium.register_envs(module)


def check_env_id(env_id: str) -> None:
    """Raise unless gymnasium knows ``env_id`` (ale-py's Atari ids are registered first if installed).

    Raises:
        CLIError: unknown id; the message lists the close registered ids.
    """
    if env_id.startswith("dm_control/") and env_id not in gymnasium.envs.registry:
        from rlblocks.envs.dm_control_suite import DM_EXTRA, register_dm_control_envs

        if not register_dm_control_envs():
            raise CLIError(f"{env_id!r} is a dm_control suite task, which needs dm-control: {DM_EXTRA}")
    if env_id not in gymnasium.envs.registry and not register_atari_envs() and env_id.startswith("ALE/"):
        raise CLIError(f"{env_id!r} is an Atari environment, which needs ale-py: {ATARI_EXTRA}")
    registered = list(gymnasium.envs.registry)
    if env_id in registered:
        return
    close = difflib.get_close_matches(env_id, registered, n=5, cutoff=0.6)
    hint = f"; close ones: {', '.join(close)}" if close else "; `python -m gymnasium` lists none close"
    raise CLIError(f"unknown gymnasium environment id {env_id!r}{hint}")


def make_env(
    config: run_config.RunConfig, num_envs: int | None = None, render_mode: str | None = None
) -> Any:
    """The config's environment as a seeded gymnasium sync vector env, wrapped for rlblocks.

    An Atari env (ale-py) gets gymnasium's standard preprocessing (`rlblocks.envs.torch.atari`).

    Raises:
        CLIError: unknown id, an env gymnasium cannot make, or spaces the CLI cannot handle.
    """
    from rlblocks.envs.torch import wrap_env

    check_env_id(config.env)
    num_envs = config.num_envs if num_envs is None else num_envs
    kwargs = dict(config.env_kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    wrappers = None
    if is_atari_env(config.env):  # the standard preprocessing: (4, 84, 84) uint8 frame stacks
        kwargs.setdefault("frameskip", 1)
        wrappers = atari_wrappers()
    try:
        env = gymnasium.make_vec(
            config.env, num_envs=num_envs, vectorization_mode="sync", wrappers=wrappers, **kwargs
        )
    except Exception as error:  # gymnasium raises many kinds (missing extras, bad kwargs)
        raise CLIError(f"gymnasium cannot make {config.env!r}: {type(error).__name__}: {error}") from error
    seed = rank_seed(config.seed)  # under torchrun each rank its own: seed + rank
    env.reset(seed=seed)
    env.action_space.seed(seed)
    observation_kind = _kind(env.single_observation_space)
    if observation_kind not in ("box", "discrete"):
        env.close()
        raise CLIError(
            f"{config.env} has a {env.single_observation_space} observation space; the CLI supports Box and "
            "Discrete observations (flatten the others with a gymnasium wrapper in your own script)"
        )
    return wrap_env(env, verbose=False)


def _kind(space: Any) -> str:
    try:
        return spaces.space_kind(space)
    except ValueError:
        return "unsupported"


def resolve_device(name: str) -> torch.device:
    """The torch device for "auto", "cpu", "cuda:0", ...

    Raises:
        CLIError: an unknown device, or CUDA asked for without a GPU.
    """
    if name == "auto":  # under torchrun: cuda:<local rank>
        return torch.device(torch_config.device)
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise CLIError(f"unknown device {name!r} ({error}); use auto, cpu or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CLIError(f"device {name!r} asked for, but torch sees no CUDA GPU; use --device cpu")
    return device


def limit_cpu_threads(device: torch.device) -> None:
    """Use one torch thread on CPU unless OMP_NUM_THREADS says otherwise.

    The CLI's networks are small MLPs: a second intra-op thread buys little and, on a busy
    machine, oversubscribed cores slow training several times over.
    """
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (`rlblocks.utils.seeding.set_seed`)."""
    set_seed(seed)


def build_agent(
    config: run_config.RunConfig,
    observation_space: Any,
    action_space: Any,
    device: torch.device,
    run_dir: str | None,
    num_envs: int | None = None,
) -> Any:
    """The agent the config describes, with a memory when ``num_envs`` is given (training).

    With ``run_dir=None`` the agent logs and saves nothing (evaluation, export).

    Raises:
        CLIError: the algorithm does not fit the action space, or a model or agent key is invalid.
    """
    algorithm = registry.get_algorithm(config.algo)
    registry.check_action_space(algorithm, config.env, action_space)
    models = build_models(algorithm, config.models, observation_space, action_space, device)
    cfg = run_config.agent_config(config, device, run_dir)
    with _agent_errors():  # the config is checked before the memory is sized from it (rollouts: -5)
        config_class = algorithm.agent_class.CONFIG_CLASS
        config_class.from_dict(cfg, allow_unknown=config_class is AgentConfig)
    memory = None
    if num_envs is not None:
        from rlblocks.memories.torch import RandomMemory

        if algorithm.on_policy:
            memory_size = int(cfg.get("rollouts", algorithm.default_config["rollouts"]))
        else:
            memory_size = int(config.memory["memory_size"])
        memory = RandomMemory(memory_size=memory_size, num_envs=num_envs, device=device)
    with _agent_errors():
        return algorithm.agent_class(
            models=models,
            memory=memory,
            observation_space=observation_space,
            action_space=action_space,
            device=device,
            cfg=cfg,
        )


@contextlib.contextmanager
def _agent_errors() -> Iterator[None]:
    """Agent config and construction errors as `CLIError` ("agent: ...")."""
    try:
        yield
    except KeyError as error:  # ConfigKeyError: an unknown agent key, with the nearest valid one
        raise CLIError(f"agent: {error.args[0] if error.args else error}") from None
    except (ValueError, TypeError) as error:
        raise CLIError(f"agent: {error}") from None
