"""The run config: what `rlblocks train` builds, resolved from layers and saved in the run directory.

Layers, later ones winning (dicts merge key by key):

1. ``configs/<algo>.yaml``: the algorithm's defaults for any environment;
2. ``configs/<algo>_<EnvId>.yaml``: tuned values for a standard pair (e.g. ppo_CartPole-v1; a "/"
   in the id is written "-": dqn_ALE-Pong-v5);
3. the user's ``--config FILE.yaml``;
4. command-line options (``--timesteps``, ``--num-envs``, ``--seed``, ``--device``, ``--eval-interval``,
   ``--eval-episodes``, ``--stop-at-return``, ``--patience``).

Models missing after that get `registry.default_models` for the env's action space. The saved
config is plain YAML: class names stay strings ("RunningStandardScaler") and are turned into
classes by `agent_config` from the fixed table in `registry`, never imported by name.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.resources
import os
from collections.abc import Mapping
from typing import Any

import torch
import yaml

from rlblocks.cli import registry
from rlblocks.cli.registry import CLIError
from rlblocks.utils.config import Config, ConfigKeyError
from rlblocks.utils.load_errors import shorten
from rlblocks.utils.suggest import did_you_mean

DEFAULT_ALGORITHM = "ppo"
DEFAULT_ENV = "CartPole-v1"
CLASS_KEYS = ("state_preprocessor", "value_preprocessor", "learning_rate_scheduler")
"""Agent config keys whose string value names a class."""


@dataclasses.dataclass(kw_only=True)
class RunConfig(Config):
    """Everything a run is built from (the top level of a config file)."""

    KIND = "run"

    algo: str = DEFAULT_ALGORITHM
    """Algorithm name (``rlblocks train --help`` lists them)."""
    env: str = DEFAULT_ENV
    """A gymnasium environment id."""
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Keyword arguments of ``gymnasium.make``."""
    num_envs: int = 8
    """Environments stepped together (a gymnasium sync vector env)."""
    seed: int = 0
    """Seed of torch, numpy, Python and the environments."""
    timesteps: int = 100000
    """Trainer timesteps; each steps every environment once."""
    device: str = "auto"
    """"cpu", "cuda:0", ... or "auto" (cuda if available)."""
    models: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Model descriptions by config entry (see `rlblocks.cli.models`)."""
    memory: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``memory_size`` (per environment) for off-policy algorithms; on-policy ones hold one rollout."""
    agent: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The agent's config, with skrl's keys."""
    eval_interval: int = 0
    """Evaluate the deterministic policy every this many timesteps on a separate env; 0: never
    (set by ``stop_at_return`` or ``patience`` to 20 evaluations per run when left at 0)."""
    eval_episodes: int = 10
    """Episodes per evaluation during training."""
    stop_at_return: float | None = None
    """Stop once an evaluation's mean return reaches this; null: never."""
    patience: int = 0
    """Stop after this many evaluations in a row without a better mean return; 0: never."""

    def __post_init__(self) -> None:
        for name in ("num_envs", "timesteps"):
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                setattr(self, name, int(value))
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), int):
                raise CLIError(f"{name} must be an integer, got {value!r}")
        if self.num_envs < 1 or self.timesteps < 1:
            raise CLIError(f"num_envs and timesteps must be >= 1, got {self.num_envs} and {self.timesteps}")


# ----------------------------------------------------------------- YAML files
def read_yaml(path: str) -> dict[str, Any]:
    """A YAML mapping from ``path`` (safe loader: no Python objects).

    Raises:
        CLIError: missing or unreadable file, invalid YAML, or not a mapping.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            content = yaml.load(stream, Loader=_LoaderWithoutAliases)  # a SafeLoader
    except FileNotFoundError:
        raise CLIError(f"config file {path!r} does not exist; check the path") from None
    except (OSError, yaml.YAMLError) as error:
        raise CLIError(f"cannot read config file {path!r}: {shorten(str(error), 500)}") from error
    if content is None:
        return {}
    if not isinstance(content, Mapping):
        raise CLIError(
            f"config file {path!r} must hold a mapping (key: value lines), got {type(content).__name__}"
        )
    return dict(content)


class _LoaderWithoutAliases(yaml.SafeLoader):
    """YAML's safe loader, refusing aliases (``*name``): nested ones expand exponentially.

    A 419-byte file of nested aliases ("billion laughs") builds a structure whose repr is tens of
    megabytes; run configs never need aliases, so none is accepted.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(
                f"aliases (*{shorten(str(event.anchor), 50)}) are not accepted in run configs (nested ones "
                f"expand exponentially; line {event.start_mark.line + 1 if event.start_mark else '?'}): "
                "write the value out"
            )
        return super().compose_node(parent, index)


def packaged_config_names() -> list[str]:
    """The ready configs shipped with rlblocks (file stems, e.g. "ppo_CartPole-v1")."""
    folder = importlib.resources.files("rlblocks.cli").joinpath("configs")
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir() if item.name.endswith(".yaml"))


def packaged_config(stem: str) -> dict[str, Any]:
    """The ready config ``configs/<stem>.yaml``, or {} if there is none."""
    resource = importlib.resources.files("rlblocks.cli").joinpath("configs", f"{stem}.yaml")
    if not resource.is_file():
        return {}
    return dict(yaml.safe_load(resource.read_text(encoding="utf-8")) or {})


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``, nested mappings merged key by key (neither is changed)."""
    result = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def resolve(
    algo: str | None = None,
    env: str | None = None,
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RunConfig:
    """Merge the layers (module docstring) into a `RunConfig`; models may still be incomplete.

    Raises:
        CLIError: an unknown algorithm, a bad file or value, or an unknown top-level key.
    """
    user = read_yaml(config_file) if config_file else {}
    algorithm = registry.get_algorithm(algo or user.get("algo") or DEFAULT_ALGORITHM)
    env_id = env or user.get("env") or default_env(algorithm)
    layers = [
        packaged_config(algorithm.name),
        packaged_config(pair_name(algorithm.name, env_id)),
        user,
        {key: value for key, value in (overrides or {}).items() if value is not None},
        {"algo": algorithm.name, "env": env_id},
    ]
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge(merged, layer)
    return from_dict(merged)


def pair_name(algo: str, env_id: str) -> str:
    """The stem of the ready config of a pair: ``<algo>_<env id>``, "/" written "-" (dqn_ALE-Pong-v5)."""
    return f"{algo}_{env_id.replace('/', '-')}"


def default_env(algorithm: registry.Algorithm) -> str:
    """The algorithm's own default env, else CartPole-v1 (Pendulum-v1 for continuous actions)."""
    if algorithm.default_env is not None:
        return algorithm.default_env
    return DEFAULT_ENV if "discrete" in algorithm.action_kinds else registry.EXAMPLE_ENVS["box"]


def from_dict(content: Mapping[str, Any]) -> RunConfig:
    """A `RunConfig` from a plain dict (a config file's content).

    Raises:
        CLIError: an unknown key (the message names the nearest) or a bad value.
    """
    try:
        return RunConfig.from_dict(content)
    except ConfigKeyError as error:
        raise CLIError(str(error)) from None
    except ValueError as error:
        raise CLIError(f"invalid config: {error}") from None


def complete(config: RunConfig, action_space: Any) -> RunConfig:
    """Fill what depends on the environment and the budget: models, agent defaults, log intervals.

    Logs are written about 200 times and checkpoints about 10 times per run, unless the config
    sets ``agent.experiment.write_interval`` / ``checkpoint_interval``.

    Raises:
        CLIError: a model entry the algorithm does not use.
    """
    algorithm = registry.get_algorithm(config.algo)
    entries = registry.model_entries(algorithm)
    for entry in config.models:
        if entry not in entries:
            raise CLIError(
                f"{algorithm.display_name} has no model entry models.{entry}{did_you_mean(entry, entries)}; "
                f"it uses {', '.join(entries)}"
            )
    defaults = registry.default_models(algorithm, action_space)
    config.models = {entry: merge(defaults.get(entry, {}), config.models.get(entry, {})) for entry in entries}
    experiment = dict(config.agent.get("experiment", {}))
    experiment.setdefault("write_interval", max(config.timesteps // 200, 1))
    experiment.setdefault("checkpoint_interval", max(config.timesteps // 10, 1))
    experiment.pop("directory", None)  # the run directory decides where
    experiment.pop("experiment_name", None)
    config.agent = merge(_plain(algorithm.default_config), {**config.agent, "experiment": experiment})
    for name in ("directory", "experiment_name"):
        config.agent["experiment"].pop(name, None)
    if not algorithm.on_policy:
        config.memory = {"memory_size": max(100000 // config.num_envs, 1), **config.memory}
    return config


def to_yaml(config: RunConfig) -> str:
    """The config as YAML text, keys in field order."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None)


# ----------------------------------------------------------- agent config
class RewardScale:
    """A rewards shaper multiplying the rewards by a constant (``rewards_shaper: {scale: 0.1}``)."""

    def __init__(self, scale: float) -> None:
        self.scale = float(scale)

    def __call__(self, rewards: torch.Tensor, timestep: int, timesteps: int) -> torch.Tensor:
        """The scaled rewards."""
        return rewards * self.scale


def agent_config(config: RunConfig, device: torch.device, run_dir: str | None) -> dict[str, Any]:
    """The agent's cfg dict: class names resolved, noises built, the experiment put in ``run_dir``.

    With ``run_dir=None`` nothing is logged or saved (for evaluation and export).

    Raises:
        CLIError: a class name outside the fixed table, or a malformed entry.
    """
    cfg = _materialize(config.agent, device)
    experiment = dict(cfg.get("experiment", {}))
    if run_dir is None:
        experiment.update(write_interval=0, checkpoint_interval=0)
    else:
        experiment.update(
            directory=os.path.dirname(os.path.abspath(run_dir)), experiment_name=os.path.basename(run_dir)
        )
    cfg["experiment"] = experiment
    return cfg


def _materialize(value: Any, device: torch.device, key: str = "") -> Any:
    if isinstance(value, Mapping):
        if "class" in value:
            kwargs = {name: item for name, item in value.items() if name != "class"}
            return registry.named_class(value["class"])(**kwargs, device=device)
        if key == "rewards_shaper":
            if set(value) != {"scale"}:
                raise CLIError(f"rewards_shaper must be {{scale: <number>}}, got {dict(value)}")
            return RewardScale(value["scale"])
        return {name: _materialize(item, device, name) for name, item in value.items()}
    if key in CLASS_KEYS and isinstance(value, str):
        return registry.named_class(value)
    if key == "rewards_shaper" and value is not None:
        raise CLIError(f"rewards_shaper must be {{scale: <number>}} or null, got {value!r}")
    return value


def _plain(value: Any, key: str = "") -> Any:
    """A default config value as YAML can hold it: classes by their table name.

    Raises:
        CLIError: a value that is neither plain data nor a class of the table.
    """
    if isinstance(value, Mapping):
        return {name: _plain(item, name) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    name = registry.class_name_of(value)
    if name is None:
        raise CLIError(f"the default of agent key {key!r} ({value!r}) cannot be written to a config file")
    return name
