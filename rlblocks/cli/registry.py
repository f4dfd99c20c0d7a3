"""What the CLI knows about each algorithm, and the fixed table of class names a config may use.

An algorithm is listed only if its agent package imports (`available_algorithms`), so the CLI
offers exactly the agents that exist. Config files name classes ("RunningStandardScaler",
"KLAdaptiveRL", "GaussianNoise"); they are looked up in `named_classes`, never imported or
evaluated from the string.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rlblocks.utils import spaces
from rlblocks.utils.suggest import did_you_mean


class CLIError(Exception):
    """An error a person can act on: the CLI prints its message (no traceback) and exits with status 2."""


@dataclass(frozen=True)
class Algorithm:
    """One algorithm as the CLI builds it.

    Attributes:
        name: the ``--algo`` value, lower case ("ppo").
        module: the agent package ("rlblocks.agents.torch.ppo").
        class_name: the agent class in it ("PPO").
        roles: agent model role -> the ``models`` entry of the config that describes it (target
            networks are built from their source's description).
        action_kinds: the action-space kinds it accepts ("box", "discrete").
        on_policy: its memory holds exactly one rollout (``memory_size = rollouts``).
        default_env: the env ``rlblocks train --algo <name>`` uses without ``--env`` (None: by
            action kind, see `rlblocks.cli.config.default_env`).
    """

    name: str
    module: str
    class_name: str
    roles: dict[str, str]
    action_kinds: tuple[str, ...]
    on_policy: bool
    default_env: str | None = None

    @property
    def agent_class(self) -> type:
        """The agent class (imports the package)."""
        return getattr(importlib.import_module(self.module), self.class_name)

    @property
    def default_config(self) -> dict[str, Any]:
        """The agent's ``<NAME>_DEFAULT_CONFIG`` dict."""
        return getattr(importlib.import_module(self.module), f"{self.class_name}_DEFAULT_CONFIG")

    @property
    def display_name(self) -> str:
        """The agent class name, e.g. "PPO"."""
        return self.class_name

    def accepts(self, action_space: Any) -> bool:
        """Whether the algorithm can act in ``action_space``."""
        return _action_kind(action_space) in self.action_kinds


_ACTOR_CRITIC = {"policy": "policy", "value": "value"}
_TWIN_CRITICS = {
    "policy": "policy",
    "critic_1": "critic",
    "critic_2": "critic",
    "target_critic_1": "critic",
    "target_critic_2": "critic",
}
KNOWN_ALGORITHMS: tuple[Algorithm, ...] = (
    Algorithm("ppo", "rlblocks.agents.torch.ppo", "PPO", _ACTOR_CRITIC, ("box", "discrete"), True),
    Algorithm("a2c", "rlblocks.agents.torch.a2c", "A2C", _ACTOR_CRITIC, ("box", "discrete"), True),
    Algorithm("trpo", "rlblocks.agents.torch.trpo", "TRPO", _ACTOR_CRITIC, ("box", "discrete"), True),
    Algorithm("rpo", "rlblocks.agents.torch.rpo", "RPO", _ACTOR_CRITIC, ("box",), True),
    Algorithm("sac", "rlblocks.agents.torch.sac", "SAC", _TWIN_CRITICS, ("box",), False),
    Algorithm(
        "td3",
        "rlblocks.agents.torch.td3",
        "TD3",
        {"target_policy": "policy", **_TWIN_CRITICS},
        ("box",),
        False,
    ),
    Algorithm(
        "ddpg",
        "rlblocks.agents.torch.ddpg",
        "DDPG",
        {"policy": "policy", "target_policy": "policy", "critic": "critic", "target_critic": "critic"},
        ("box",),
        False,
    ),
    Algorithm(
        "dqn",
        "rlblocks.agents.torch.dqn",
        "DQN",
        {"q_network": "q_network", "target_q_network": "q_network"},
        ("discrete",),
        False,
    ),
    Algorithm(
        "ddqn",
        "rlblocks.agents.torch.dqn",
        "DDQN",
        {"q_network": "q_network", "target_q_network": "q_network"},
        ("discrete",),
        False,
    ),
    Algorithm("cem", "rlblocks.agents.torch.cem", "CEM", {"policy": "policy"}, ("discrete",), True),
    Algorithm(
        "q_learning",
        "rlblocks.agents.torch.q_learning",
        "Q_LEARNING",
        {"policy": "policy"},
        ("discrete",),
        False,
        "FrozenLake-v1",
    ),
    Algorithm(
        "sarsa", "rlblocks.agents.torch.sarsa", "SARSA", {"policy": "policy"}, ("discrete",), False, "Taxi-v4"
    ),
)
"""Every algorithm the CLI can build; `available_algorithms` keeps those whose agent exists."""

EXAMPLE_ENVS = {"discrete": "CartPole-v1", "box": "Pendulum-v1"}
"""An environment of each action-space kind, for error messages."""


def available_algorithms() -> dict[str, Algorithm]:
    """The algorithms whose agent class imports, by ``--algo`` name."""
    found = {}
    for algorithm in KNOWN_ALGORITHMS:
        try:
            module = importlib.import_module(algorithm.module)
        except ModuleNotFoundError as error:
            if error.name is not None and algorithm.module.startswith(error.name):
                continue  # the agent package does not exist (yet)
            raise
        if hasattr(module, algorithm.class_name) and hasattr(
            module, f"{algorithm.class_name}_DEFAULT_CONFIG"
        ):
            found[algorithm.name] = algorithm
    return found


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name`` (case-insensitive).

    Raises:
        CLIError: no such algorithm; the message lists the close and the available ones.
    """
    algorithms = available_algorithms()
    key = name.strip().lower()
    if key not in algorithms:
        raise CLIError(
            f"unknown algorithm {name!r}{did_you_mean(key, algorithms)}; available: {', '.join(algorithms)}"
        )
    return algorithms[key]


def check_action_space(algorithm: Algorithm, env_id: str, action_space: Any) -> None:
    """Raise unless ``algorithm`` can act in ``env_id``'s ``action_space``.

    Raises:
        CLIError: e.g. "DQN needs a Discrete action space; CartPole-v1 fits, Pendulum-v1 does not".
    """
    if algorithm.accepts(action_space):
        return
    wanted = " or ".join(_KIND_NAMES[kind] for kind in algorithm.action_kinds)
    example = EXAMPLE_ENVS[algorithm.action_kinds[0]]
    fitting = [other.name for other in available_algorithms().values() if other.accepts(action_space)]
    advice = f"; for {env_id} try --algo {' / '.join(fitting)}" if fitting else ""
    raise CLIError(
        f"{algorithm.display_name} needs a {wanted} action space; {example} fits, {env_id} does not "
        f"(its action space is {action_space}){advice}"
    )


_KIND_NAMES = {"box": "Box (continuous)", "discrete": "Discrete"}


def _action_kind(space: Any) -> str:
    try:
        return spaces.space_kind(space)
    except ValueError:
        return "unsupported"


# -------------------------------------------------------------- named classes
def _resource(module: str, *names: str) -> Callable[[], Any]:
    """A loader of the first of ``names`` that ``module`` defines (aliases of one class)."""

    def load() -> Any:
        loaded = importlib.import_module(module)
        for name in names:
            if hasattr(loaded, name):
                return getattr(loaded, name)
        raise AttributeError(f"{module} defines none of {names}")

    return load


_NAMED_CLASSES: dict[str, Callable[[], Any]] = {
    "RunningStandardScaler": _resource("rlblocks.resources.preprocessors.torch", "RunningStandardScaler"),
    "KLAdaptiveRL": _resource("rlblocks.resources.schedulers.torch", "KLAdaptiveRL", "KLAdaptiveLR"),
    "KLAdaptiveLR": _resource("rlblocks.resources.schedulers.torch", "KLAdaptiveLR", "KLAdaptiveRL"),
    "GaussianNoise": _resource("rlblocks.resources.noises.torch", "GaussianNoise"),
    "OrnsteinUhlenbeckNoise": _resource("rlblocks.resources.noises.torch", "OrnsteinUhlenbeckNoise"),
    "StepLR": _resource("torch.optim.lr_scheduler", "StepLR"),
    "LinearLR": _resource("torch.optim.lr_scheduler", "LinearLR"),
    "ExponentialLR": _resource("torch.optim.lr_scheduler", "ExponentialLR"),
}
"""Class names a config may use, mapped to a loader of the class."""


def named_class(name: str) -> type:
    """The class a config names.

    Raises:
        CLIError: a name outside the fixed table (the message lists the close and the valid ones).
    """
    if name not in _NAMED_CLASSES:
        raise CLIError(
            f"unknown class {name!r} in the config{did_you_mean(name, _NAMED_CLASSES)}; "
            f"a config may name: {', '.join(_NAMED_CLASSES)}"
        )
    try:
        return _NAMED_CLASSES[name]()
    except (ImportError, AttributeError) as error:
        raise CLIError(f"the config names {name!r}, which this installation lacks ({error})") from error


def class_name_of(value: Any) -> str | None:
    """The table name of a class from `named_class` (None for anything else)."""
    for name in _NAMED_CLASSES:
        try:
            if _NAMED_CLASSES[name]() is value:
                return name
        except (ImportError, AttributeError):
            continue
    return None


# ------------------------------------------------------------- default models
def default_models(algorithm: Algorithm, action_space: Any) -> dict[str, dict[str, Any]]:
    """Model descriptions (see `rlblocks.cli.models`) for an algorithm on an env with no ready config."""
    kind = _action_kind(action_space)
    scale = action_scale(action_space)
    if algorithm.name == "cem":
        return {"policy": {"kind": "categorical", "hiddens": [64, 64], "hidden_activation": "relu"}}
    if algorithm.name in ("q_learning", "sarsa"):
        # one table that every env fills (num_envs 1), epsilon-greedy (see EpsilonGreedyTabularPolicy)
        return {"policy": {"kind": "tabular", "num_envs": 1, "epsilon": 0.1}}
    if algorithm.name in ("ppo", "a2c", "trpo", "rpo"):
        policy: dict[str, Any] = (
            {"kind": "categorical", "hiddens": [64, 64], "hidden_activation": "tanh"}
            if kind == "discrete"
            else {
                "kind": "gaussian",
                "hiddens": [64, 64],
                "hidden_activation": "tanh",
                "output_activation": None,
                "clip_actions": False,  # clipped samples skew PPO's log-probs; eval clamps the mean
            }
        )
        value = {
            "kind": "deterministic",
            "hiddens": [64, 64],
            "hidden_activation": "tanh",
            "output_shape": "ONE",
            "output_activation": None,
        }
        return {"policy": policy, "value": value}
    critic = {
        "kind": "deterministic",
        "input_shape": "STATES_ACTIONS",
        "hiddens": [256, 256],
        "hidden_activation": "relu",
        "output_shape": "ONE",
        "output_activation": None,
    }
    if algorithm.name == "sac":
        # an unbounded mean: configs/sac.yaml turns on squash_actions (tanh into the bounds)
        actor = {
            "kind": "gaussian",
            "hiddens": [256, 256],
            "hidden_activation": "relu",
            "output_activation": None,
        }
        return {"policy": actor, "critic": critic}
    if algorithm.name in ("td3", "ddpg"):
        actor = {
            "kind": "deterministic",
            "hiddens": [256, 256],
            "hidden_activation": "relu",
            "output_activation": "tanh",
            "output_scale": scale,
        }
        return {"policy": actor, "critic": critic}
    return {
        "q_network": {
            "kind": "deterministic",
            "hiddens": [64, 64],
            "hidden_activation": "relu",
            "output_shape": "ACTIONS",
            "output_activation": None,
        }
    }


def action_scale(action_space: Any) -> float:
    """The largest absolute bound of a finite Box action space (1.0 otherwise): a tanh actor's scale."""
    if _action_kind(action_space) != "box":
        return 1.0
    low, high = spaces.box_bounds(action_space, "cpu")
    bound = float(max(low.abs().max(), high.abs().max()))
    return bound if bound != float("inf") else 1.0


def model_entries(algorithm: Algorithm) -> list[str]:
    """The ``models`` entries a config must describe for ``algorithm``, in role order."""
    return list(dict.fromkeys(algorithm.roles.values()))


def roles_by_entry(algorithm: Algorithm) -> Mapping[str, list[str]]:
    """Config model entry -> the agent roles built from it."""
    result: dict[str, list[str]] = {}
    for role, entry in algorithm.roles.items():
        result.setdefault(entry, []).append(role)
    return result
