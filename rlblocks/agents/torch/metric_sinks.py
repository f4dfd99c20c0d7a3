"""Metric sinks: the agent's TensorBoard scalars also sent to Weights & Biases and MLflow.

At every write (`Agent.write_tracking_data`) the agent hands the values it wrote to TensorBoard,
already host floats, to each sink with the same step (environment steps); evaluation statistics go
under ``eval/``. The config is logged once when the run starts. Each service is optional: it is
imported only when its ``experiment`` key asks for it, and a missing package is an ImportError
naming the install command, raised before the run directory is made (`sinks_for`).

Weights & Biases gets the values with ``run.log`` rather than through ``sync_tensorboard``:
that patch must see the writer module imported before ``wandb.init`` and syncs the event files
asynchronously, so a short run could finish with only its config uploaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from rlblocks.utils.optional import import_for_key

_UNSUPPORTED = re.compile(r"[^\w\-./ ]")


class MetricSink(Protocol):
    """Where an agent's metrics go besides TensorBoard."""

    def log(self, values: Mapping[str, float], step: int) -> None:
        """Log one write's values at ``step`` (environment steps)."""


def sinks_for(experiment: Any) -> list[Any]:
    """The optional packages the ``experiment`` section asks for, imported now: [(name, module)].

    Raises:
        ImportError: a package asked for is not installed (the message names the install command).
    """
    modules = []
    if experiment.wandb:
        modules.append(("wandb", import_for_key("wandb", 'cfg["experiment"]["wandb"]', "pip install wandb")))
    if experiment.mlflow:
        install = "pip install mlflow (or mlflow-skinny)"
        modules.append(("mlflow", import_for_key("mlflow", 'cfg["experiment"]["mlflow"]', install)))
    return modules


def start_sinks(
    modules: list[Any], name: str, directory: str, parameters: Mapping[str, Any], experiment: Any
) -> list[MetricSink]:
    """Start one run per package of `sinks_for`, named ``name``, logging ``parameters`` as its config."""
    starters = {"wandb": WandbRun, "mlflow": MLflowRun}
    kwargs = {"wandb": experiment.wandb_kwargs, "mlflow": experiment.mlflow_kwargs}
    return [starters[key](module, name, directory, parameters, kwargs[key]) for key, module in modules]


class WandbRun:
    """A wandb run receiving the agent's metrics.

    Args:
        wandb: the wandb module.
        name: the run name (the experiment directory's name).
        directory: where wandb writes its files (the experiment directory).
        parameters: the agent's and trainer's config, the run's config.
        kwargs: ``experiment.wandb_kwargs``, keyword arguments of ``wandb.init`` (they win).
    """

    def __init__(
        self, wandb: Any, name: str, directory: str, parameters: Mapping[str, Any], kwargs: Mapping[str, Any]
    ) -> None:
        arguments = {"name": name, "dir": directory, **kwargs}
        arguments["config"] = {**dict(arguments.get("config") or {}), **_plain(parameters)}
        self.run = wandb.init(**arguments)

    def log(self, values: Mapping[str, float], step: int) -> None:
        """Log one write's values at ``step``."""
        if values:
            self.run.log(dict(values), step=step)


class MLflowRun:
    """An MLflow run receiving the agent's metrics.

    Args:
        mlflow: the mlflow module.
        name: the run name.
        directory: unused (MLflow's store is set by ``tracking_uri``); for a common signature.
        parameters: the config, logged as parameters (flattened, values as short strings).
        kwargs: ``experiment.mlflow_kwargs``: ``tracking_uri`` and ``experiment_name`` are applied
            with ``mlflow.set_tracking_uri`` / ``mlflow.set_experiment``; the rest go to
            ``mlflow.start_run``.
    """

    def __init__(
        self, mlflow: Any, name: str, directory: str, parameters: Mapping[str, Any], kwargs: Mapping[str, Any]
    ) -> None:
        del directory
        kwargs = dict(kwargs)
        if "tracking_uri" in kwargs:
            mlflow.set_tracking_uri(kwargs.pop("tracking_uri"))
        if "experiment_name" in kwargs:
            mlflow.set_experiment(kwargs.pop("experiment_name"))
        self._mlflow = mlflow
        self.run = mlflow.start_run(run_name=kwargs.pop("run_name", name), nested=True, **kwargs)
        flat = _flatten(parameters)
        mlflow.log_params({key: _short(value) for key, value in flat.items()}, run_id=self.run.info.run_id)

    def log(self, values: Mapping[str, float], step: int) -> None:
        """Log one write's values at ``step``, under names MLflow accepts (`metric_name`)."""
        metrics = {metric_name(tag): float(value) for tag, value in values.items()}
        if metrics:
            self._mlflow.log_metrics(metrics, step=step, run_id=self.run.info.run_id)


def metric_name(tag: str) -> str:
    """``"Loss / Policy loss"`` -> ``"Loss/Policy_loss"``: MLflow's allowed characters, no spaces."""
    name = re.sub(r"\s*/\s*", "/", tag.strip())
    return _UNSUPPORTED.sub("_", name).replace(" ", "_")


def _flatten(content: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in content.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _plain(content: Mapping[str, Any]) -> dict[str, Any]:
    """The config with classes and callables named, so that any service can store it."""
    return {key: _short(value) if callable(value) else value for key, value in _flatten(content).items()}


def _short(value: Any) -> str:
    text = getattr(value, "__name__", None) or repr(value)
    return text if len(text) <= 250 else text[:247] + "..."
