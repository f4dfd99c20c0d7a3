"""`rlblocks export`: the deterministic policy as one standalone file, raw observation in, action out.

The exported module holds the agent's observation preprocessor (e.g. a RunningStandardScaler,
frozen in eval mode) and the policy network, and ends with the deterministic choice: the mean
action clamped to the Box bounds, the argmax of a categorical policy's logits or of a Q-network.
A tabular policy (Q-learning, SARSA) is exported as its greedy table: state index in, action out.
After writing the file the command runs it (torch.jit.load, or onnxruntime) on observations
collected from the environment and checks that its actions equal the eager agent's within 1e-5.

A recurrent policy (``get_specification()`` with ``"rnn"``, e.g. a model description with
``rnn: {type: lstm, ...}``) is exported with its states as explicit inputs and outputs::

    inputs:  observations (N, obs), rnn_state_0 (num_layers, N, hidden)[, rnn_state_1 (cell, LSTM)]
    outputs: actions (N, A), rnn_state_0_out[, rnn_state_1_out] (the states after this step)

The caller carries the states: zeros at the start of every episode, then each step's
``rnn_state_*_out`` fed back as the next step's ``rnn_state_*``; when an env's episode ends
(terminated or truncated) its states are zeroed (``state[:, ended] = 0``) before its next step, as
the agents do. With onnxruntime::

    states = {name: numpy.zeros(shape, numpy.float32) for name, shape in result.state_shapes(1).items()}
    for each step:
        actions, *next_states = session.run(None, {"observations": obs, **states})
        states = dict(zip(states, next_states))   # or zeros again after an episode end

The parity check then plays whole episodes with the eager agent (its states carried and reset at
episode ends) and runs the exported file on the same observations, carrying its own states.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable
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
from rlblocks.trainers.torch.evaluation import evaluation_step
from rlblocks.utils import images, spaces

FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
TOLERANCE = 1e-5
PARITY_STEPS, MAX_PARITY_STEPS = 64, 2000
"""A recurrent policy's parity run: whole episodes until at least 64 steps (at most 2000 steps)."""
POLICY_ROLES = ("policy", "q_network")
"""The role whose model acts, in order of preference."""


def state_names(num_states: int) -> tuple[list[str], list[str]]:
    """The exported file's names of a recurrent policy's states: inputs, outputs."""
    names = [f"rnn_state_{index}" for index in range(num_states)]
    return names, [f"{name}_out" for name in names]


class ExportedPolicy(nn.Module):
    """Raw (N, num_observations) float32 observations -> the deterministic (N, A) actions.

    Image observations (`rlblocks.utils.images`) go in raw, as the env gives them: uint8
    (N, *space.shape), e.g. (N, 4, 84, 84); the policy's encoder scales them.

    A recurrent policy takes its current states after the observations and returns its next ones
    after the actions: ``forward(observations, *states) -> (actions, *next_states)``, each state
    (num_layers·D, N, hidden) (module docstring: how to carry them).

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
        self.takes_images = images.is_image_space(getattr(policy, "observation_space", None))
        """Observations are uint8 images, fed to the policy as they are (not cast to float32)."""
        specification = policy.get_specification().get("rnn", {}) or {}
        self.state_sizes = [tuple(int(item) for item in size) for size in specification.get("sizes", [])]
        """(num_layers·D, num_envs, hidden) of each recurrent state; [] for a feed-forward policy."""

    def forward(self, observations: torch.Tensor, *rnn_states: torch.Tensor) -> Any:
        """Actions for a batch of raw observations (and, recurrent, the next states)."""
        states = observations if self.takes_images else observations.to(torch.float32)
        if self.preprocessor is not None:
            states = self.preprocessor(states)
        inputs = {"states": states, "rnn": list(rnn_states)} if self.state_sizes else {"states": states}
        if self.choice == "output":
            actions, _, outputs = self.policy.act(inputs, role=self.role)
        else:
            computed = self.policy.compute(inputs, role=self.role)
            actions, outputs = self._choose(computed[0]), computed[-1]
        return (actions, *outputs["rnn"]) if self.state_sizes else actions

    def _choose(self, output: torch.Tensor) -> torch.Tensor:
        if self.choice == "argmax":
            return torch.argmax(output, dim=-1, keepdim=True)
        if self.choice == "mean":
            return torch.clamp(output, self.low, self.high)
        if self.choice == "squash":
            return squash(output, self.low, self.high)
        return output

    def zero_states(self, num_envs: int) -> list[torch.Tensor]:
        """The states of ``num_envs`` envs at the start of their episodes: zeros."""
        return [torch.zeros(size[0], num_envs, size[2]) for size in self.state_sizes]


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
    state_sizes: list[tuple[int, ...]] = dataclasses.field(default_factory=list)
    """A recurrent policy's state sizes (num_layers·D, num_envs, hidden); [] for a feed-forward one."""
    num_episodes: int = 0
    """The whole episodes the parity check played (recurrent policies; 0 otherwise)."""

    def state_shapes(self, num_envs: int) -> dict[str, tuple[int, int, int]]:
        """The exported file's state inputs and their shapes for ``num_envs`` envs ({} if feed-forward)."""
        names = state_names(len(self.state_sizes))[0]
        return {name: (size[0], num_envs, size[2]) for name, size in zip(names, self.state_sizes)}

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
    return as_exported_inputs(torch.cat(rows))


def as_exported_inputs(observations: torch.Tensor) -> torch.Tensor:
    """Observations as the exported file takes them: uint8 images stay uint8, the rest is float32."""
    return observations if observations.dtype == torch.uint8 else observations.to(torch.float32)


def episode_steps(agent: Any, config: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Whole episodes of the eager agent (eval mode, states carried and reset at episode ends).

    Episodes are played until at least `PARITY_STEPS` steps have been taken and the last episode has
    ended (or `MAX_PARITY_STEPS` steps).

    Returns:
        ``(observations (T, obs), episode_starts (T,) bool, actions (T, A), episodes ended)``.
    """
    config = dataclasses.replace(config, seed=config.seed + 2000)
    environment = build.make_env(config, num_envs=1)
    rows, starts, actions, episodes = [], [], [], 0
    agent.set_running_mode("eval")  # zero states
    try:
        states, _ = environment.reset()
        is_start = True
        while len(rows) < MAX_PARITY_STEPS and (len(rows) < PARITY_STEPS or not is_start):
            rows.append(as_exported_inputs(states))
            starts.append(is_start)
            step = evaluation_step(agent, states, environment.step, len(rows) - 1, MAX_PARITY_STEPS)
            actions.append(step.actions)
            is_start = bool((step.terminated | step.truncated).any())
            episodes += is_start
            states = environment.reset()[0] if is_start else step.next_states
    finally:
        environment.close()
    return torch.cat(rows), torch.tensor(starts), torch.cat(actions), episodes


def export(path: str, format: str = "onnx", output: str | None = None) -> ExportResult:
    """Export the policy of a run (its best checkpoint) or of a checkpoint; check parity.

    A recurrent policy is exported with its states as inputs and outputs (module docstring) and
    checked over whole episodes, the exported file carrying its own states.

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
    recurrent = isinstance(module, ExportedPolicy) and bool(module.state_sizes)
    episodes, starts = 0, None
    if recurrent:
        observations, starts, expected, episodes = episode_steps(agent, config)
        examples = (observations[:2], *module.zero_states(2))
    else:
        observations = sample_observations(config)
        with torch.no_grad():
            expected = agent.act(observations, 0, 1)[0]
        examples = (observations,)
    run = (
        _torchscript(module, examples, output) if format == "torchscript" else _onnx(module, examples, output)
    )
    actual = _carrying_states(run, module, observations, starts) if recurrent else run(observations)[0]
    difference = float((actual.to(torch.float64) - expected.to(torch.float64)).abs().max())
    sizes = module.state_sizes if recurrent else []
    return ExportResult(output, format, observations.shape[0], difference, sizes, episodes)


RunExported = Callable[..., list[torch.Tensor]]
"""The exported file as loaded: ``(observations, *states) -> [actions, *next_states]``."""


def _carrying_states(
    run: RunExported, module: ExportedPolicy, observations: torch.Tensor, starts: torch.Tensor
) -> torch.Tensor:
    """The exported file's actions step by step, its states fed back and zeroed at episode starts."""
    actions, states = [], module.zero_states(1)
    for observation, is_start in zip(observations, starts.tolist()):
        if is_start:
            states = module.zero_states(1)
        action, *states = run(observation.view(1, -1), *states)
        actions.append(action)
    return torch.cat(actions)


def _torchscript(module: nn.Module, examples: tuple[torch.Tensor, ...], output: str) -> RunExported:
    with torch.no_grad(), warnings.catch_warnings():
        # an RNN layer's own shape checks are traced as constants: they hold for any batch size
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, examples, check_trace=False)
    traced.save(output)
    loaded = torch.jit.load(output, map_location="cpu")

    def run(*inputs: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            result = loaded(*inputs)
        return list(result) if isinstance(result, tuple) else [result]

    return run


def _onnx(module: nn.Module, examples: tuple[torch.Tensor, ...], output: str) -> RunExported:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError as error:
        raise CLIError(
            f"ONNX export needs the optional packages onnx and onnxruntime ({error}); install them with "
            "pip install 'rlblocks[export]', or export with --format torchscript"
        ) from None
    inputs, outputs = state_names(len(examples) - 1)
    inputs, outputs = ["observations", *inputs], ["actions", *outputs]
    axes = {name: {0: "batch"} for name in ("observations", "actions")}
    axes.update({name: {1: "batch"} for name in [*inputs[1:], *outputs[1:]]})
    with warnings.catch_warnings():
        # torch >= 2.9 defaults to the torch.export-based exporter, which needs onnxscript; the
        # TorchScript-based one (dynamo=False) handles these small networks with onnx alone.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            examples,
            output,
            dynamo=False,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
        )
    session = onnxruntime.InferenceSession(output, providers=["CPUExecutionProvider"])

    def run(*tensors: torch.Tensor) -> list[torch.Tensor]:
        feed = {name: tensor.numpy() for name, tensor in zip(inputs, tensors)}
        return [torch.from_numpy(array) for array in session.run(outputs, feed)]

    return run


def summary(result: ExportResult) -> str:
    """Where the file is and whether it matches."""
    verdict = "match" if result.matches else "DO NOT match"
    where = f"{result.num_observations} observations"
    lines = [f"exported ({result.format}): {result.path}"]
    if result.state_sizes:
        where = f"{result.num_observations} steps of {result.num_episodes} whole episode(s), states carried"
        inputs, outputs = state_names(len(result.state_sizes))
        shapes = ", ".join(f"{name} {shape}" for name, shape in result.state_shapes(1).items())
        lines += [
            f"inputs: observations, {', '.join(inputs)} ({shapes} for one env)",
            f"outputs: actions, {', '.join(outputs)}; feed zeros at an episode start, then each step's "
            "*_out back in",
        ]
    lines.append(
        f"parity: outputs {verdict} the eager policy on {where} "
        f"(max |difference| = {result.max_abs_difference:.2e}, tolerance {TOLERANCE:g})"
    )
    return "\n".join(lines)
