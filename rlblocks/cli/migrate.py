"""`rlblocks migrate`: a stable-baselines3 or rl_games checkpoint -> an rlblocks run directory.

The file is read safely (`rlblocks.utils.migration`: weights-only, never unpickled). Its tensor
names tell the algorithm and its shapes the network sizes; the models are built with the model
instantiators, loaded with `Model.migrate`, and the agent is saved as ``checkpoints/agent_0.pt``
beside a ``config.yaml``, so `rlblocks eval` and `rlblocks export` accept the directory.

What each source becomes (activations per library, as they ship by default):

| source | algo | models |
|---|---|---|
| SB3 PPO/A2C ``MlpPolicy`` | ppo | categorical or Gaussian policy, value; Tanh |
| SB3 SAC | sac | Gaussian policy squashed into the bounds (squash_actions), twin critics and targets; ReLU |
| SB3 TD3 / DDPG | td3 / ddpg | tanh actor x action bound, critics and targets; ReLU |
| SB3 DQN | dqn | Q-network and target; ReLU |
| rl_games a2c_continuous/discrete | ppo | policy, value (shared trunk copied into both), normalisation; ELU |

SB3 ``VecNormalize`` statistics (a ``vecnormalize.pkl`` or ``vec_normalize.pkl`` beside the zip, as
rl-zoo3 ships them, or the file given with ``--vecnormalize``) become the agent's state
preprocessor, exactly (``RunningStandardScaler`` with epsilon 0 and VecNormalize's clip): without
them a policy trained on normalised observations acts on raw ones. Reward normalisation only
affects training and is not carried over.

Approximations (the deterministic policy, which eval and export use, is exact):
- SB3 SAC's log-std is a linear head on the features; an instantiated Gaussian model has one
  log-std per action, so it takes the head's bias.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from rlblocks import logger
from rlblocks.cli import build, registry
from rlblocks.cli import config as run_config
from rlblocks.cli import run_dir as runs
from rlblocks.cli.registry import CLIError
from rlblocks.utils.checkpoint import CheckpointError
from rlblocks.utils.load_errors import shorten

KNOWN_ENVS = {
    ("discrete", 4, 2): "CartPole-v1",
    ("discrete", 6, 3): "Acrobot-v1",
    ("discrete", 2, 3): "MountainCar-v0",
    ("box", 3, 1): "Pendulum-v1",
    ("box", 2, 1): "MountainCarContinuous-v0",
}
"""Environments recognised from (action kind, observation size, action size) when --env is omitted."""


@dataclass
class Plan:
    """What a checkpoint becomes: algorithm, sizes, models, agent settings."""

    library: str
    algo: str
    action_kind: str
    num_observations: int
    num_actions: int
    models: dict[str, dict[str, Any]]
    agent: dict[str, Any] = field(default_factory=dict)
    name_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class MigrateResult:
    """The run directory written and how it was made."""

    run_dir: str
    checkpoint: str
    plan: Plan
    env: str
    env_inferred: bool


VEC_NORMALIZE_NAMES = ("vecnormalize.pkl", "vec_normalize.pkl")
"""Where rl-zoo3 and ``VecNormalize.save`` users put the statistics: beside the zip."""


def migrate(
    path: str, env: str | None = None, run_dir: str | None = None, vecnormalize: str | None = None
) -> MigrateResult:
    """Convert ``path`` into a run directory (see the module docstring).

    Args:
        path: an SB3 ``.zip`` or an rl_games ``.pth``.
        env: the env id (SB3 files name none; classic-control ones are recognised).
        run_dir: the directory to write (default ``runs/<timestamp>_<algo>-from-<library>_<env>``).
        vecnormalize: an SB3 ``VecNormalize.save`` pickle; default: one of `VEC_NORMALIZE_NAMES`
            beside ``path``, if there is one.

    Raises:
        CLIError: unreadable or unrecognised file, unknown or unfitting env, missing agent.
    """
    from rlblocks.utils.migration.sources import read_source

    try:
        source = read_source(None, path)
    except (CheckpointError, ValueError) as error:
        raise CLIError(str(error)) from None
    tensors = {_strip(name): tensor for name, tensor in source.tensors.items()}
    try:
        plan = _plan(source.library, tensors, path)
    except (KeyError, IndexError) as error:  # a known layout missing a tensor, or one of odd shape
        raise CLIError(
            f"{path} looks like a {source.library} checkpoint but its tensors are incomplete or damaged "
            f"({type(error).__name__}: {shorten(str(error), 200)}; tensors: "
            f"{shorten(str(sorted(tensors)), 300)}); copy the file again from its source"
        ) from None
    env_inferred = env is None
    if env is None:
        env = KNOWN_ENVS.get((plan.action_kind, plan.num_observations, plan.num_actions))
        if env is None:
            raise CLIError(
                f"{path} does not name its environment; pass --env ENV_ID (a {plan.action_kind} env with "
                f"{plan.num_observations} observations and {plan.num_actions} actions)"
            )
    observation_statistics = _vec_normalize_statistics(plan, path, vecnormalize)
    if observation_statistics is not None:
        plan.agent["state_preprocessor"] = "RunningStandardScaler"
        plan.agent["state_preprocessor_kwargs"] = {
            "epsilon": observation_statistics.epsilon,
            "clip_threshold": observation_statistics.clip_threshold,
        }
    algorithm = _algorithm(plan)
    config = run_config.from_dict(
        {"algo": algorithm.name, "env": env, "num_envs": 1, "models": plan.models, "agent": plan.agent}
    )
    environment = build.make_env(config, num_envs=1)
    observation_space, action_space = environment.observation_space, environment.action_space
    environment.close()
    _check_spaces(plan, env, observation_space, action_space)
    _scale_actors(plan, action_space)
    config = run_config.complete(config, action_space)
    device = torch.device("cpu")
    agent = build.build_agent(config, observation_space, action_space, device, None)
    _load_models(agent, plan, path)
    _load_normalization(agent, plan, path)
    if observation_statistics is not None:
        _load_statistics(agent, observation_statistics, "state_preprocessor")
    target = run_dir or runs.new_run_dir("runs", f"{algorithm.name}-from-{_library_tag(plan.library)}", env)
    runs.check_fresh(target)
    runs.save_config(target, config)
    checkpoint = os.path.join(runs.checkpoints_dir(target), "agent_0.pt")
    agent.save(checkpoint)
    return MigrateResult(target, checkpoint, plan, env, env_inferred)


def _strip(name: str) -> str:
    """A tensor name without torch.compile's ``_orig_mod.`` prefixes."""
    return re.sub(r"(^|\.)_orig_mod\.", r"\1", name)


def _library_tag(library: str) -> str:
    return {"stable-baselines3": "sb3", "rl_games": "rl_games"}.get(library, library)


# ------------------------------------------------------------------- planning
def _layer_sizes(tensors: dict[str, torch.Tensor], prefix: str) -> list[tuple[int, int]]:
    """(out, in) of the Linear layers ``<prefix>.<i>.weight``, in index order."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.weight$")
    layers = sorted(
        (int(match.group(1)), tuple(tensor.shape))
        for name, tensor in tensors.items()
        if (match := pattern.match(name)) and tensor.dim() == 2
    )
    return [shape for _, shape in layers]


def _mlp(kind: str, layers: list[tuple[int, int]], activation: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "hiddens": [out for out, _ in layers], "hidden_activation": activation, **extra}


def _plan(library: str, tensors: dict[str, torch.Tensor], path: str) -> Plan:
    """Recognise the algorithm and sizes from the tensor names and shapes.

    Raises:
        CLIError: a layout none of the supported ones matches.
    """
    names = set(tensors)
    if library == "rl_games" or any(name.startswith("a2c_network.") for name in names):
        return _plan_rl_games(tensors, path)
    if any(name.startswith("mlp_extractor.policy_net.") for name in names):
        trunk = _layer_sizes(tensors, "mlp_extractor.policy_net")
        value_trunk = _layer_sizes(tensors, "mlp_extractor.value_net")
        num_actions = int(tensors["action_net.weight"].shape[0])
        is_box = "log_std" in names
        value = _mlp("deterministic", value_trunk, "tanh", output_shape="ONE", output_activation=None)
        policy = (
            _mlp("gaussian", trunk, "tanh", output_activation=None)
            if is_box
            else _mlp("categorical", trunk, "tanh")
        )
        return Plan(
            library,
            "ppo",
            "box" if is_box else "discrete",
            trunk[0][1],
            num_actions,
            {"policy": policy, "value": value},
        )
    critic = _layer_sizes(tensors, "critic.qf0")
    critic_model = _mlp(
        "deterministic",
        critic[:-1],
        "relu",
        input_shape="STATES_ACTIONS",
        output_shape="ONE",
        output_activation=None,
    )
    if any(name.startswith("actor.latent_pi.") for name in names):
        trunk = _layer_sizes(tensors, "actor.latent_pi")
        policy = _mlp("gaussian", trunk, "relu", output_activation=None)
        return Plan(
            library,
            "sac",
            "box",
            trunk[0][1],
            int(tensors["actor.mu.weight"].shape[0]),
            {"policy": policy, "critic": critic_model},
            agent={"squash_actions": True},  # SB3 squashes the Gaussian sample with tanh, as SAC does
            name_maps={"policy": {"log_std_parameter": "actor.log_std.bias"}},
            notes=["SAC's state-dependent log-std head became a constant log-std (its bias)"],
        )
    if any(name.startswith("actor.mu.") for name in names):
        layers = _layer_sizes(tensors, "actor.mu")
        policy = _mlp("deterministic", layers[:-1], "relu", output_activation="tanh")
        algo = "td3" if any(name.startswith("critic.qf1.") for name in names) else "ddpg"
        return Plan(
            library, algo, "box", layers[0][1], layers[-1][0], {"policy": policy, "critic": critic_model}
        )
    if any(name.startswith("q_net.q_net.") for name in names):
        layers = _layer_sizes(tensors, "q_net.q_net")
        q_network = _mlp("deterministic", layers[:-1], "relu", output_shape="ACTIONS", output_activation=None)
        return Plan(library, "dqn", "discrete", layers[0][1], layers[-1][0], {"q_network": q_network})
    raise CLIError(
        f"{path} is a {library} checkpoint whose layout rlblocks migrate does not know (tensors: "
        f"{sorted(names)[:8]}...); it handles SB3 PPO/A2C/SAC/TD3/DDPG/DQN MlpPolicy files and rl_games "
        "a2c_continuous/a2c_discrete actor_critic networks"
    )


def _plan_rl_games(tensors: dict[str, torch.Tensor], path: str) -> Plan:
    names = set(tensors)
    trunk = _layer_sizes(tensors, "a2c_network.actor_mlp")
    if not trunk:
        raise CLIError(f"{path}: an rl_games checkpoint without a2c_network.actor_mlp layers")
    critic_trunk = _layer_sizes(tensors, "a2c_network.critic_mlp") or trunk
    value = _mlp("deterministic", critic_trunk, "elu", output_shape="ONE", output_activation=None)
    agent: dict[str, Any] = {}
    for what, entry in (("running_mean_std", "state_preprocessor"), ("value_mean_std", "value_preprocessor")):
        if f"{what}.running_mean" in names:
            # rl_games: clamp((x - mean) / sqrt(var + 1e-5), ±5); the statistics carry the 1e-5
            agent[entry] = "RunningStandardScaler"
            agent[f"{entry}_kwargs"] = {"epsilon": 0.0, "clip_threshold": 5.0}
    if "a2c_network.mu.weight" in names:
        policy = _mlp("gaussian", trunk, "elu", output_activation=None)
        num_actions, kind = int(tensors["a2c_network.mu.weight"].shape[0]), "box"
    elif "a2c_network.logits.weight" in names:
        policy = _mlp("categorical", trunk, "elu")
        num_actions, kind = int(tensors["a2c_network.logits.weight"].shape[0]), "discrete"
    else:
        raise CLIError(f"{path}: an rl_games network with neither a mu nor a logits head")
    return Plan("rl_games", "ppo", kind, trunk[0][1], num_actions, {"policy": policy, "value": value}, agent)


def _algorithm(plan: Plan) -> registry.Algorithm:
    available = registry.available_algorithms()
    if plan.algo not in available:
        raise CLIError(
            f"this {plan.library} checkpoint is a {plan.algo.upper()} one, and this installation has no "
            f"{plan.algo.upper()} agent (available: {', '.join(available)})"
        )
    return available[plan.algo]


def _check_spaces(plan: Plan, env: str, observation_space: Any, action_space: Any) -> None:
    from rlblocks.utils import spaces

    kind = spaces.space_kind(action_space)
    num_observations = spaces.compute_space_size(observation_space)
    num_actions = spaces.compute_space_size(action_space)
    if (kind, num_observations, num_actions) != (plan.action_kind, plan.num_observations, plan.num_actions):
        raise CLIError(
            f"the checkpoint's networks take {plan.num_observations} observations and give "
            f"{plan.num_actions} {plan.action_kind} actions, but {env} has {num_observations} observations "
            f"and {num_actions} {kind} actions; pass the --env it was trained on"
        )


def _scale_actors(plan: Plan, action_space: Any) -> None:
    """Scale [-1, 1] actor outputs to the action bounds (SB3 SAC/TD3/DDPG tanh, rl_games mu).

    The models then act in env units directly, as the source libraries' predictions do.
    """
    if plan.action_kind != "box" or (plan.library == "stable-baselines3" and plan.algo in ("ppo", "sac")):
        return  # SB3 PPO clips its mean; SAC squashes (squash_actions)
    scale = registry.action_scale(action_space)
    plan.models["policy"]["output_scale"] = scale
    if plan.library == "rl_games" and scale != 1.0:
        plan.notes.append(f"rl_games' mu in [-1, 1] is scaled by {scale:g} to the action bounds")


# -------------------------------------------------------------------- loading
def _load_models(agent: Any, plan: Plan, path: str) -> None:
    """Migrate every model of the agent; its role tells which source network it takes.

    Raises:
        CLIError: a model no source tensors fit.
    """
    for role, model in agent.models.items():
        if model is None:
            continue
        model.migration_role = role  # read by the migration's name hints (policy, target_critic_2, ...)
        entry = registry.get_algorithm(plan.algo).roles[role]
        with _quiet_info():  # Model.migrate's advice to load the statistics: done below
            migrated = model.migrate(path=path, name_map=plan.name_maps.get(entry, {}))
        if not migrated:
            raise CLIError(
                f"could not map {path}'s tensors onto the {role} model ({plan.models[entry]}); the warnings "
                "above say which tensors were missing or ambiguous"
            )
    policy = agent.models.get("policy")
    scale = plan.models.get("policy", {}).get("output_scale", 1.0)
    if plan.library == "rl_games" and hasattr(policy, "log_std_parameter") and scale != 1.0:
        with torch.no_grad():
            policy.log_std_parameter += math.log(scale)  # the std follows the mean into env units


@contextlib.contextmanager
def _quiet_info() -> Iterator[None]:
    """Hide the rlblocks logger's INFO records (warnings still show)."""
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _load_normalization(agent: Any, plan: Plan, path: str) -> None:
    """Copy the source's observation/value statistics into the agent's preprocessors."""
    if plan.library != "rl_games":
        return
    from rlblocks.utils.migration import load_normalization

    normalization = load_normalization(path=path)
    for statistics, entry in (
        (normalization.observations, "state_preprocessor"),
        (normalization.values, "value_preprocessor"),
    ):
        scaler = agent.checkpoint_modules.get(entry)
        if statistics is not None and scaler is not None:
            statistics.load_into(scaler)


def _vec_normalize_statistics(plan: Plan, path: str, given: str | None) -> Any:
    """The observation statistics of the SB3 VecNormalize pickle given or found beside ``path``.

    Raises:
        CLIError: a file given for a non-SB3 checkpoint, a missing file, or one that is not a
            VecNormalize pickle.
    """
    if given is not None and plan.library != "stable-baselines3":
        raise CLIError(
            f"--vecnormalize {given!r} is for stable-baselines3 checkpoints, but {path} is a {plan.library} "
            "one (rl_games files carry their statistics); leave the option out"
        )
    if plan.library != "stable-baselines3":
        return None
    candidate = given
    if candidate is None:
        directory = os.path.dirname(os.path.abspath(path))
        found = [os.path.join(directory, name) for name in VEC_NORMALIZE_NAMES]
        candidate = next((name for name in found if os.path.isfile(name)), None)
        if candidate is None:
            return None
    from rlblocks.utils.migration import load_normalization
    from rlblocks.utils.migration.sb3 import is_vec_normalize_file

    if not os.path.isfile(candidate):
        raise CLIError(
            f"--vecnormalize {candidate!r} does not exist; give the path of VecNormalize.save's pickle"
        )
    if not is_vec_normalize_file(candidate):
        raise CLIError(
            f"{candidate!r} is not a stable-baselines3 VecNormalize pickle (the file VecNormalize.save "
            "writes); give that file, or move this one away"
        )
    try:
        statistics = load_normalization(path=candidate).observations
    except (CheckpointError, ValueError) as error:
        raise CLIError(f"cannot read the VecNormalize statistics in {candidate!r}: {error}") from None
    if statistics is None:
        plan.notes.append(f"{candidate} normalises no observations (norm_obs=False); nothing to attach")
        return None
    if statistics.size != plan.num_observations:
        raise CLIError(
            f"{candidate!r} normalises {statistics.size} observations but {path} takes "
            f"{plan.num_observations}; give the VecNormalize file saved with this model"
        )
    plan.notes.append(f"observations normalised with the VecNormalize statistics of {candidate}")
    return statistics


def _load_statistics(agent: Any, statistics: Any, entry: str) -> None:
    scaler = agent.checkpoint_modules.get(entry)
    if scaler is None:  # the agent was built with the preprocessor the plan asked for
        raise CLIError(f"the migrated agent has no {entry}; this is a bug, please report it")
    statistics.load_into(scaler)


def summary(result: MigrateResult) -> str:
    """What was migrated and where it went."""
    plan = result.plan
    inferred = " (recognised from the network sizes; pass --env to choose)" if result.env_inferred else ""
    models = ", ".join(f"{entry}: {spec['kind']} {spec['hiddens']}" for entry, spec in plan.models.items())
    lines = [
        f"migrated {plan.library} {plan.algo.upper()} -> {result.run_dir}",
        f"  env:        {result.env}{inferred}",
        f"  models:     {models}",
        f"  checkpoint: {result.checkpoint}",
        *[f"  note:       {note}" for note in plan.notes],
        f"  next:       rlblocks eval {result.run_dir}",
    ]
    return "\n".join(lines)
