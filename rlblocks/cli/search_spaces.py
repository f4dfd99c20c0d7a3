"""The hyperparameters `rlblocks tune` searches, per algorithm family, as Optuna suggestions.

Each `Parameter` names an agent config key (a dotted path into nested sections, e.g.
``exploration.final_epsilon``) and the range Optuna samples it from. Every range lies inside what
the agent's typed config accepts (e.g. discount factors and GAE λ in [0, 1], polyak in (0, 1],
positive learning rates), so any suggestion builds an agent:

- PPO, RPO: learning rate (log-uniform), rollouts, learning epochs, mini-batches, discount
  factor, GAE λ, entropy bonus; A2C the same without learning epochs (one pass);
- TRPO: the value function's learning rate, rollouts, discount factor, λ, the KL bound;
- SAC, TD3, DDPG: actor and critic learning rates, batch size, discount factor, polyak;
- DQN, DDQN: learning rate, batch size, final ε and the steps ε decays over (as a fraction of
  the trial's budget), the target network's update interval;
- CEM, Q-learning, SARSA: the learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DISCOUNTS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
"""The discount factors searched (a categorical choice, as rl-zoo3 does)."""


@dataclass(frozen=True)
class Parameter:
    """One searched key.

    Attributes:
        key: the agent config key; dots separate nested sections ("exploration.timesteps").
        kind: "log" (log-uniform float), "float" (uniform), "int" (uniform integer), "choice"
            (categorical over ``choices``) or "fraction" (a uniform fraction of the trial's
            timesteps, stored as an integer number of timesteps >= 1).
        low: the lower bound (log, float, int, fraction).
        high: the upper bound, included.
        choices: the values of a "choice".
    """

    key: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any, timesteps: int) -> Any:
        """The value an Optuna ``trial`` suggests for this key (``timesteps``: the trial's budget)."""
        if self.kind == "log":
            return trial.suggest_float(self.key, self.low, self.high, log=True)
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high)
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high))
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.kind == "fraction":
            fraction = trial.suggest_float(f"{self.key}_fraction", self.low, self.high)
            return max(1, round(fraction * timesteps))
        raise ValueError(f"unknown parameter kind {self.kind!r}")


def _on_policy(learning_epochs: bool) -> tuple[Parameter, ...]:
    epochs = (Parameter("learning_epochs", "int", 1, 20),) if learning_epochs else ()
    return (
        Parameter("learning_rate", "log", 1e-5, 1e-2),
        Parameter("rollouts", "choice", choices=(16, 32, 64, 128, 256)),
        *epochs,
        Parameter("mini_batches", "choice", choices=(1, 2, 4, 8)),
        Parameter("discount_factor", "choice", choices=DISCOUNTS),
        Parameter("lambda", "choice", choices=(0.8, 0.9, 0.92, 0.95, 0.98, 0.99, 1.0)),
        Parameter("entropy_loss_scale", "float", 0.0, 0.05),
    )


_ACTOR_CRITIC_OFF_POLICY = (
    Parameter("actor_learning_rate", "log", 1e-5, 1e-2),
    Parameter("critic_learning_rate", "log", 1e-5, 1e-2),
    Parameter("batch_size", "choice", choices=(64, 128, 256, 512)),
    Parameter("discount_factor", "choice", choices=DISCOUNTS),
    Parameter("polyak", "log", 1e-3, 0.1),
)
_Q_LEARNING = (
    Parameter("learning_rate", "log", 1e-5, 1e-2),
    Parameter("batch_size", "choice", choices=(32, 64, 128, 256)),
    Parameter("exploration.final_epsilon", "float", 0.0, 0.2),
    Parameter("exploration.timesteps", "fraction", 0.05, 0.5),
    Parameter("target_update_interval", "choice", choices=(1, 100, 250, 500, 1000)),
)

SEARCH_SPACES: dict[str, tuple[Parameter, ...]] = {
    "ppo": _on_policy(learning_epochs=True),
    "rpo": _on_policy(learning_epochs=True),
    "a2c": _on_policy(learning_epochs=False),
    "trpo": (
        Parameter("value_learning_rate", "log", 1e-5, 1e-2),
        Parameter("rollouts", "choice", choices=(64, 128, 256, 512)),
        Parameter("discount_factor", "choice", choices=DISCOUNTS),
        Parameter("lambda", "choice", choices=(0.8, 0.9, 0.92, 0.95, 0.98, 0.99, 1.0)),
        Parameter("max_kl_divergence", "log", 1e-3, 0.1),
    ),
    "sac": _ACTOR_CRITIC_OFF_POLICY,
    "td3": _ACTOR_CRITIC_OFF_POLICY,
    "ddpg": _ACTOR_CRITIC_OFF_POLICY,
    "dqn": _Q_LEARNING,
    "ddqn": _Q_LEARNING,
    "cem": (Parameter("learning_rate", "log", 1e-4, 1e-1),),
    "q_learning": (Parameter("learning_rate", "log", 1e-3, 1.0),),
    "sarsa": (Parameter("learning_rate", "log", 1e-3, 1.0),),
}
"""The searched keys of each ``--algo``."""


def search_space(algo: str) -> tuple[Parameter, ...]:
    """The parameters searched for ``algo``.

    Raises:
        KeyError: an algorithm without a search space.
    """
    return SEARCH_SPACES[algo]


def suggest(trial: Any, algo: str, timesteps: int) -> dict[str, Any]:
    """The agent config overrides an Optuna ``trial`` suggests, nested by section.

    Returns:
        e.g. ``{"learning_rate": 3e-4, "exploration": {"final_epsilon": 0.05, "timesteps": 2000}}``,
        to merge over the run config's ``agent`` section.
    """
    overrides: dict[str, Any] = {}
    for parameter in search_space(algo):
        _set(overrides, parameter.key, parameter.suggest(trial, timesteps))
    return overrides


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *sections, name = dotted.split(".")
    for section in sections:
        target = target.setdefault(section, {})
    target[name] = value
