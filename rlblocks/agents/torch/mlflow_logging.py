"""`MLflowRun`: the agent's TensorBoard scalars also logged to MLflow (``experiment.mlflow``).

The metrics an agent writes (`Agent.write_tracking_data`, already host floats) go to
``mlflow.log_metrics`` with the same step (environment steps); the agent's config is logged as
parameters once. MLflow is optional: it is imported only when asked for, and a missing package is
an ImportError naming the install command, raised before the run directory is made. Tags are
logged under names MLflow accepts (``"Loss / Policy loss"`` -> ``"Loss/Policy_loss"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_UNSUPPORTED = re.compile(r"[^\w\-./ ]")


def import_mlflow() -> Any:
    """The mlflow module, or an ImportError naming the install command.

    Raises:
        ImportError: mlflow is not installed.
    """
    try:
        import mlflow
    except ImportError as error:
        raise ImportError(
            'cfg["experiment"]["mlflow"] is True but mlflow is not installed: pip install mlflow '
            "(or mlflow-skinny), or set mlflow to False"
        ) from error
    return mlflow


def metric_name(tag: str) -> str:
    """``"Loss / Policy loss"`` -> ``"Loss/Policy_loss"``: MLflow's allowed characters, no spaces."""
    name = re.sub(r"\s*/\s*", "/", tag.strip())
    return _UNSUPPORTED.sub("_", name).replace(" ", "_")


class MLflowRun:
    """One MLflow run for the agent's metrics.

    Args:
        mlflow: the mlflow module (`import_mlflow`).
        name: the run name (the experiment directory's name).
        parameters: the agent's config, logged once (values turned into short strings).
        kwargs: ``experiment.mlflow_kwargs``: ``tracking_uri`` and ``experiment_name`` are applied
            with ``mlflow.set_tracking_uri`` / ``mlflow.set_experiment``; the rest go to
            ``mlflow.start_run``.
    """

    def __init__(
        self, mlflow: Any, name: str, parameters: Mapping[str, Any], kwargs: Mapping[str, Any] | None = None
    ) -> None:
        kwargs = dict(kwargs or {})
        if "tracking_uri" in kwargs:
            mlflow.set_tracking_uri(kwargs.pop("tracking_uri"))
        if "experiment_name" in kwargs:
            mlflow.set_experiment(kwargs.pop("experiment_name"))
        self._mlflow = mlflow
        self.run = mlflow.start_run(run_name=kwargs.pop("run_name", name), nested=True, **kwargs)
        flat = _flatten(parameters)
        mlflow.log_params({key: _short(value) for key, value in flat.items()}, run_id=self.run.info.run_id)

    def log(self, values: Mapping[str, float], step: int) -> None:
        """Log one write's metrics at ``step``."""
        metrics = {metric_name(tag): float(value) for tag, value in values.items()}
        if metrics:
            self._mlflow.log_metrics(metrics, step=step, run_id=self.run.info.run_id)


def _flatten(content: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in content.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _short(value: Any) -> str:
    text = getattr(value, "__name__", None) or repr(value)
    return text if len(text) <= 250 else text[:247] + "..."
