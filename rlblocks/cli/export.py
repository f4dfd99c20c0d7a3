"""`rlblocks export`: the deterministic policy as one standalone file, raw observation in, action out.

The exported module holds the agent's observation preprocessor (e.g. a RunningStandardScaler,
frozen in eval mode) and the policy network, and ends with the deterministic choice: the mean
action clamped to the Box bounds, the argmax of a categorical policy's logits or of a Q-network.
A tabular policy (Q-learning, SARSA) is exported as its greedy table: state index in, action out.
After writing the file the command runs it (torch.jit.load, or onnxruntime) on observations
collected from the environment and checks that its actions equal the eager agent's within 1e-5.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rlblocks.agents.torch.functional.squashing import squash
from rlblocks.cli import build
from rlblocks.cli import run_dir as runs
from rlblocks.cli.evaluate import load_agent
from rlblocks.cli.registry import CLIError
from rlblocks.models.torch import CategoricalMixin, GaussianMixin, MultivariateGaussianMixin, TabularMixin
from rlblocks.utils import spaces

FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
TOLERANCE = 1e-5
POLICY_ROLES = ("policy", "q_network")
"""The role whose model acts, in order of preference."""


class ExportedPolicy(nn.Module):
    """Raw (N, num_observations) float32 observations -> the deterministic (N, A) actions.

    It computes what the agent's ``act`` does in eval running mode, without sampling:

    - "mean": a Gaussian policy's mean, clamped to the Box bounds (PPO, SAC without squashing);
    - "squash": the mean squashed into the bounds with tanh (SAC with ``squash_actions``);
    - "output": a deterministic actor's output, clipped if the model clips (TD3, DDPG);
    - "argmax": the best action of a categorical policy's logits or of a Q-network.

    Args:
        policy: the acting model ("policy" or "q_network").
        role: its role, passed to the model.
        preprocessor: the observation preprocessor (an ``nn.Module``), or None.
        action_space: the env's action space (its Box bounds clamp or squash).
        choice: one of the four above.
    """

    def __init__(
        self, policy: nn.Module, role: str, preprocessor: nn.Module | None, action_space: Any, choice: str
    ) -> None:
        super().__init__()
        self.policy = policy
        self.role = role
        self.preprocessor = preprocessor
        self.choice = choice
        if choice in ("mean", "squash") and spaces.is_box(action_space):
            low, high = spaces.box_bounds(action_space, "cpu")
            self.register_buffer("low", low)
            self.register_buffer("high", high)
        elif choice in ("mean", "squash"):
            self.choice = "output_of_compute"

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Actions for a batch of raw observations."""
        states = observations.to(torch.float32)
        if self.preprocessor is not None:
            states = self.preprocessor(states)
        inputs = {"states": states}
        if self.choice == "output":
            return self.policy.act(inputs, role=self.role)[0]
        output = self.policy.compute(inputs, role=self.role)[0]
        if self.choice == "argmax":
            return torch.argmax(output, dim=-1, keepdim=True)
        if self.choice == "mean":
            return torch.clamp(output, self.low, self.high)
        if self.choice == "squash":
            return squash(output, self.low, self.high)
        return output


class ExportedTable(nn.Module):
    """A tabular agent's greedy choice: (N, 1) observation indexes -> (N, 1) int64 actions.

    Args:
        greedy_actions: (num_observations,) the action the agent takes, in eval running mode, in
            each state (Q-learning and SARSA: argmax of the mean of the env tables).
    """

    def __init__(self, greedy_actions: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("greedy_actions", greedy_actions.reshape(-1).to(torch.int64))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Actions for a batch of observation indexes (any numeric dtype)."""
        return self.greedy_actions[observations.reshape(-1).to(torch.int64)].reshape(-1, 1)


@dataclass
class ExportResult:
    """The exported file and how closely it matches the eager agent."""

    path: str
    format: str
    num_observations: int
    max_abs_difference: float

    @property
    def matches(self) -> bool:
        """Whether the outputs agree within `TOLERANCE`."""
        return self.max_abs_difference <= TOLERANCE


def exportable_policy(agent: Any, action_space: Any) -> ExportedPolicy | ExportedTable:
    """The agent's deterministic policy as an `ExportedPolicy` (on CPU, eval mode).

    A tabular policy becomes an `ExportedTable`: the greedy action of every state.

    Raises:
        CLIError: the agent has no policy or Q-network model.
    """
    role = next((name for name in POLICY_ROLES if agent.models.get(name) is not None), None)
    if role is None:
        raise CLIError(f"nothing to export: the agent has no {' or '.join(POLICY_ROLES)} model")
    policy = agent.models[role]
    if isinstance(policy, TabularMixin):
        states = torch.arange(policy.table().shape[1]).reshape(-1, 1)
        with torch.no_grad():
            return ExportedTable(agent.act(states, 0, 1)[0].cpu()).eval()
    if isinstance(policy, (GaussianMixin, MultivariateGaussianMixin)):
        choice = "squash" if getattr(agent.cfg, "squash_actions", False) else "mean"
    elif isinstance(policy, CategoricalMixin) or role == "q_network":
        choice = "argmax"
    else:
        choice = "output"
    preprocessor = agent.checkpoint_modules.get("state_preprocessor")
    if preprocessor is not None and not isinstance(preprocessor, nn.Module):
        preprocessor = None
    module = ExportedPolicy(policy, role, preprocessor, action_space, choice)
    return module.to("cpu").eval()


def sample_observations(config: Any, count: int = 64) -> torch.Tensor:
    """``count`` real observations of the config's env, visited with random actions."""
    config = dataclasses.replace(config, seed=config.seed + 2000)
    environment = build.make_env(config, num_envs=1)
    environment.action_space.seed(config.seed)
    rows = []
    try:
        states, _ = environment.reset()
        for _ in range(count):
            rows.append(states)
            action = torch.as_tensor(environment.action_space.sample())
            environment.step(action.reshape(1, -1))
            states, _ = environment.reset()  # the observations to act on next (see Wrapper)
    finally:
        environment.close()
    return torch.cat(rows).to(torch.float32)


def export(path: str, format: str = "onnx", output: str | None = None) -> ExportResult:
    """Export the policy of a run (its best checkpoint) or of a checkpoint; check parity.

    Raises:
        CLIError: unknown format, missing optional dependency, bad path or checkpoint.
    """
    if format not in FORMATS:
        raise CLIError(f"unknown export format {format!r}; use {' or '.join(FORMATS)}")
    agent, config, _, (_, action_space) = load_agent(path, "cpu")
    module = exportable_policy(agent, action_space)
    run_dir, _ = runs.locate(path)
    output = output or os.path.join(run_dir, f"policy{FORMATS[format]}")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    observations = sample_observations(config)
    with torch.no_grad():
        expected = agent.act(observations, 0, 1)[0].to(torch.float64)
    if format == "torchscript":
        actual = _torchscript(module, observations, output)
    else:
        actual = _onnx(module, observations, output)
    difference = float((actual.to(torch.float64) - expected).abs().max())
    return ExportResult(output, format, observations.shape[0], difference)


def _torchscript(module: nn.Module, observations: torch.Tensor, output: str) -> torch.Tensor:
    with torch.no_grad():
        traced = torch.jit.trace(module, (observations,), check_trace=False)
    traced.save(output)
    loaded = torch.jit.load(output, map_location="cpu")
    with torch.no_grad():
        return loaded(observations)


def _onnx(module: nn.Module, observations: torch.Tensor, output: str) -> torch.Tensor:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError as error:
        raise CLIError(
            f"ONNX export needs the optional packages onnx and onnxruntime ({error}); install them with "
            "pip install 'rlblocks[export]', or export with --format torchscript"
        ) from None
    with warnings.catch_warnings():
        # torch >= 2.9 defaults to the torch.export-based exporter, which needs onnxscript; the
        # TorchScript-based one (dynamo=False) handles these small MLPs with onnx alone.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (observations,),
            output,
            dynamo=False,
            input_names=["observations"],
            output_names=["actions"],
            dynamic_axes={"observations": {0: "batch"}, "actions": {0: "batch"}},
        )
    session = onnxruntime.InferenceSession(output, providers=["CPUExecutionProvider"])
    (actions,) = session.run(["actions"], {"observations": observations.numpy()})
    return torch.from_numpy(actions)


def summary(result: ExportResult) -> str:
    """Where the file is and whether it matches."""
    verdict = "match" if result.matches else "DO NOT match"
    return "\n".join(
        [
            f"exported ({result.format}): {result.path}",
            f"parity: outputs {verdict} the eager policy on {result.num_observations} observations "
            f"(max |difference| = {result.max_abs_difference:.2e}, tolerance {TOLERANCE:g})",
        ]
    )
