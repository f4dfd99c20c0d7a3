"""Runs made from Python as run directories the CLI accepts (``rlblocks eval``, ``export``, ``plot``).

When a trainer starts training one rlblocks agent that writes into its experiment directory,
`record_run` describes the run as a `RunConfig` and writes it as ``config.yaml``, as
``rlblocks train`` does, provided everything can be rebuilt from a description:

- the env is a gymnasium env with a registered id (the wrapped env's ``spec``, or its first
  sub-env's);
- the agent is one of the CLI's algorithms (``rlblocks algos``);
- every model was made by `rlblocks.utils.model_instantiators` (``gaussian_model``,
  ``categorical_model``, ...: they keep their typed spec), one model per config entry;
- every agent config value is plain data, a class of the CLI's table (RunningStandardScaler,
  KLAdaptiveLR, ...), a noise of the table, or a ``RewardScale``.

Otherwise it writes ``not_rebuildable.txt`` saying which part cannot be rebuilt and what to do,
and ``rlblocks eval``/``export`` print that instead of "not an rlblocks run directory". A
directory that already holds a CLI run's ``config.yaml`` is left alone; one written here (its first
line `PYTHON_RUN_HEADER`) is rewritten by the next run in the same directory. The seed is not
known to the trainer and is written as 0.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import os
from collections.abc import Mapping
from typing import Any

import torch

from rlblocks.cli import config as run_config
from rlblocks.cli import registry, resume_checks
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError
from rlblocks.utils.checkpoint import atomic_write_text

NOT_REBUILDABLE_FILE = runs.NOT_REBUILDABLE_FILE
"""Written instead of config.yaml when a Python run cannot be described; its text is the reason."""
MODEL_KINDS = {
    "GaussianModel": "gaussian",
    "MultivariateGaussianModel": "multivariate_gaussian",
    "DeterministicModel": "deterministic",
    "CategoricalModel": "categorical",
}
"""`rlblocks.utils.model_instantiators` model classes -> their kind in a config description."""
VECTOR_KEYS = ("num_envs", "vectorization_mode", "vector_kwargs", "wrappers", "render_mode")
"""``gymnasium.make_vec`` arguments kept in a vector env's spec kwargs that are not env kwargs."""
PYTHON_RUN_HEADER = "# written by the trainer: a run made from Python (seed unknown, written as 0)"
"""First line of a config.yaml `record_run` wrote; the next run in the directory rewrites it."""
HOW_TO_FIX = (
    "To use rlblocks eval/export on such runs, build the models with rlblocks.utils.model_instantiators "
    "(gaussian_model, categorical_model, deterministic_model) on a registered gymnasium env id; or stay "
    "in Python: agent.load('<run>/checkpoints/best_agent.pt', evaluation_only=True) then "
    "rlblocks.evaluate(agent, env)."
)


class NotRebuildable(Exception):
    """A part of a Python run the CLI cannot rebuild from a description (the message says which)."""


def record_run(agent: Any, env: Any, timesteps: int) -> str | None:
    """Write ``config.yaml`` (or ``not_rebuildable.txt``) into the agent's experiment directory.

    Returns the path written, or None when the directory is missing or already holds a config.yaml.
    """
    directory = agent.experiment_dir
    config_path = os.path.join(directory, runs.CONFIG_FILE)
    if not os.path.isdir(directory) or (os.path.exists(config_path) and not _is_python_run(config_path)):
        return None  # a CLI run's config.yaml (train, migrate) is the CLI's own
    try:
        config = describe(agent, env, timesteps)
    except NotRebuildable as reason:
        path = os.path.join(directory, NOT_REBUILDABLE_FILE)
        text = f"{directory!r} was made from Python and the CLI cannot rebuild its agent: {reason}."
        atomic_write_text(path, f"{text} {HOW_TO_FIX}\n")
        if os.path.exists(config_path):  # an earlier Python run's: it no longer describes the agent
            os.remove(config_path)
        return path
    note = os.path.join(directory, NOT_REBUILDABLE_FILE)
    if os.path.exists(note):
        os.remove(note)
    text = f"{PYTHON_RUN_HEADER}\n{run_config.to_yaml(config)}{resume_checks.END_LINE}\n"
    atomic_write_text(config_path, text)
    return config_path


def _is_python_run(path: str) -> bool:
    """Whether ``path`` is a config.yaml `record_run` wrote (its first line is `PYTHON_RUN_HEADER`)."""
    with open(path, encoding="utf-8") as stream:
        return stream.readline().rstrip("\n") == PYTHON_RUN_HEADER


def describe(agent: Any, env: Any, timesteps: int) -> run_config.RunConfig:
    """The run config that rebuilds ``agent`` and ``env``.

    Raises:
        NotRebuildable: the env, the agent class, a model or a config value cannot be described.
    """
    env_id, env_kwargs = _env_id(env)
    algorithm = _algorithm(agent)
    entries = registry.roles_by_entry(algorithm)
    models = {entry: _model_description(agent, entry, roles) for entry, roles in entries.items()}
    agent_cfg = _agent_config(agent)
    content: dict[str, Any] = {
        "algo": algorithm.name,
        "env": env_id,
        "env_kwargs": env_kwargs,
        "num_envs": int(getattr(env, "num_envs", 1)),
        "timesteps": max(int(timesteps), 1),
        "device": str(agent.device),
        "models": models,
        "agent": agent_cfg,
    }
    if not algorithm.on_policy and agent.memory is not None:
        content["memory"] = {"memory_size": int(agent.memory.memory_size)}
    try:
        return run_config.from_dict(content)
    except CLIError as error:
        raise NotRebuildable(str(error)) from None


def _env_id(env: Any) -> tuple[str, dict[str, Any]]:
    spec = getattr(env, "spec", None)
    if spec is None:
        inner = getattr(env, "_env", None)
        sub_envs = getattr(inner, "envs", None)
        spec = getattr(sub_envs[0], "spec", None) if sub_envs else None
    if spec is None or not getattr(spec, "id", None):
        raise NotRebuildable(
            f"the env ({type(env).__name__}) has no gymnasium id (env.spec is None); make it with "
            "gymnasium.make/make_vec from a registered id"
        )
    kwargs = {key: value for key, value in dict(spec.kwargs or {}).items() if key not in VECTOR_KEYS}
    return str(spec.id), _plain(kwargs, "env_kwargs")


def _algorithm(agent: Any) -> registry.Algorithm:
    for algorithm in registry.available_algorithms().values():
        if type(agent) is algorithm.agent_class:
            return algorithm
    raise NotRebuildable(
        f"the agent class {type(agent).__module__}.{type(agent).__name__} is not one of the CLI's algorithms "
        f"({', '.join(registry.available_algorithms())})"
    )


def _model_description(agent: Any, entry: str, roles: list[str]) -> dict[str, Any]:
    model = agent.models.get(roles[0])
    kind = MODEL_KINDS.get(type(model).__name__)
    spec = getattr(model, "spec", None)
    if kind is None or spec is None or type(model).__module__ != "rlblocks.utils.model_instantiators.models":
        described = "None" if model is None else f"a {type(model).__module__}.{type(model).__name__}"
        raise NotRebuildable(
            f"the {roles[0]!r} model is {described}, not a model made by rlblocks.utils.model_instantiators"
        )
    for role in roles[1:]:
        other = agent.models.get(role)
        if other is model or type(other) is not type(model) or getattr(other, "spec", None) != spec:
            raise NotRebuildable(
                f"the {role!r} model is not a separate copy of the {roles[0]!r} model "
                "(the CLI builds it from the same description)"
            )
    arguments = spec.arguments()
    if kind == "multivariate_gaussian":
        arguments.pop("reduction", None)  # its factory has no reduction (always "sum")
    if kind == "categorical":
        arguments.pop("output_scale", None)
    return {"kind": kind, **_plain(arguments, f"models.{entry}")}


def _agent_config(agent: Any) -> dict[str, Any]:
    content = agent.cfg.to_dict()
    experiment = dict(content.get("experiment", {}))
    for name in ("directory", "experiment_name"):
        experiment.pop(name, None)
    content["experiment"] = experiment
    for key in [key for key in content if key.endswith("_preprocessor_kwargs")]:
        # size and device default to the agent's own (skrl's examples pass them)
        content[key] = {
            name: value for name, value in dict(content[key] or {}).items() if name not in ("size", "device")
        }
    return _plain(content, "agent")


def _plain(value: Any, key: str) -> Any:
    """``value`` as YAML can hold it (the CLI's config conventions).

    Raises:
        NotRebuildable: a value that is not plain data nor a describable object of the CLI's table.
    """
    if isinstance(value, Mapping):
        return {str(name): _plain(item, f"{key}.{name}") for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{key}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, run_config.RewardScale):
        return {"scale": value.scale}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain({field.name: getattr(value, field.name) for field in dataclasses.fields(value)}, key)
    if isinstance(value, type):
        name = registry.class_name_of(value)
        if name is not None:
            return name
    else:
        described = _instance(value, key)
        if described is not None:
            return described
    raise NotRebuildable(
        f"{key} = {value!r} cannot be written to a config file (plain values can, the classes and noises "
        "the CLI names, and RewardScale)"
    )


def _instance(value: Any, key: str) -> dict[str, Any] | None:
    """``{class: <table name>, <argument>: ...}`` of an object (a noise) whose arguments it keeps."""
    name = registry.class_name_of(type(value))
    if name is None:
        return None
    arguments = {}
    for parameter in inspect.signature(type(value)).parameters:
        if parameter == "device":
            continue
        if not hasattr(value, parameter):
            return None
        arguments[parameter] = _plain(getattr(value, parameter), f"{key}.{parameter}")
    return {"class": name, **arguments}
