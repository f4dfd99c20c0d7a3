"""Name hints: which part of an actor-critic a name, or a model, stands for.

Shapes alone cannot tell a policy head from a value head when the action is 1-D, nor a policy
trunk from a value trunk. Names usually can, in every library's vocabulary:

- family "policy": policy, actor, pi, and the head words below (SB3 ``action_net``, rl_games ``mu``);
- family "value": value, critic, qf, q, vf (SB3 ``value_net``, ``critic.qf0``, DQN ``q_net``);
- part "mean" (mu, mean, logits, action) versus part "std" (sigma, std, log_std) inside a policy;
- "target" for target networks (``critic_target``, ``q_net_target``, ``target_policy``).

A model's hints come from, in order: an optional ``migration_role`` attribute (a role string such as
"critic_2" or "target_policy"), the roles its mixins were registered under, and otherwise its
mixins and shapes (stochastic mixins act as policies; a deterministic model whose input is
observations + actions is a critic, one with a single output a value function, one with
``clip_actions`` a deterministic actor).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rlblocks.utils import spaces
from rlblocks.utils.migration.structure import Shape, name_tokens

POLICY, VALUE = "policy", "value"
MEAN, STD = "mean", "std"

PART_WORDS = {
    MEAN: frozenset({"mu", "mean", "means", "loc", "logits", "logit", "action", "actions"}),
    STD: frozenset({"sigma", "sigmas", "std", "logstd", "stddev", "scale"}),
}
FAMILY_WORDS = {
    POLICY: frozenset({"policy", "actor", "pi"}) | PART_WORDS[MEAN] | PART_WORDS[STD],
    VALUE: frozenset({"value", "values", "critic", "critics", "qf", "q", "vf", "v", "val"}),
}
TARGET_WORDS = frozenset({"target", "targ", "tgt"})

STOCHASTIC_ROLE_TABLES = ("_g_roles", "_mg_roles", "_c_roles", "_mc_roles")
"""Role tables of the mixins whose models act as policies."""
GAUSSIAN_ROLE_TABLES = ("_g_roles", "_mg_roles")
"""Role tables of the mixins whose lone tensors are log-standard-deviations."""
DETERMINISTIC_ROLE_TABLE = "_d_roles"


@dataclass(frozen=True)
class Hints:
    """What a name says: families ("policy"/"value"), parts ("mean"/"std"), and whether it is a target."""

    families: frozenset[str] = frozenset()
    parts: frozenset[str] = frozenset()
    is_target: bool = False


@dataclass(frozen=True)
class ModelHints:
    """What the current model is, for choosing among sources that fit its shapes.

    Attributes:
        families: "policy" and/or "value" (both for a shared actor-critic model).
        is_target: the model is a target network (it prefers ``*_target`` sources).
        ordinal: 1-based copy number from a role such as "critic_2"; picks among parallel copies
            (SB3 ``critic.qf0`` / ``critic.qf1``). None means the first copy.
        lone_parts: the part of the model's lone tensors ({"std"} for a Gaussian policy's log-std).
        description: how the hints were found, for verbose logs.
    """

    families: frozenset[str]
    is_target: bool = False
    ordinal: int | None = None
    lone_parts: frozenset[str] = frozenset()
    description: str = ""


@functools.lru_cache(maxsize=4096)
def name_hints(path: str) -> Hints:
    """The hints carried by a name (or a role string)."""
    words = name_tokens(path)
    return Hints(
        families=frozenset(family for family, vocabulary in FAMILY_WORDS.items() if words & vocabulary),
        parts=frozenset(part for part, vocabulary in PART_WORDS.items() if words & vocabulary),
        is_target=bool(words & TARGET_WORDS),
    )


def role_ordinal(role: str) -> int | None:
    """The copy number a role ends with: "critic_2" -> 2, "target_critic_1" -> 1, "value" -> None."""
    match = re.search(r"(\d+)$", role)
    return int(match.group(1)) if match else None


def model_hints(model: object, table: Mapping[str, Shape]) -> ModelHints:
    """The current model's hints, from ``migration_role``, its registered roles, mixins and shapes."""
    explicit = getattr(model, "migration_role", None)
    tables = {
        name: getattr(model, name, None) for name in (*STOCHASTIC_ROLE_TABLES, DETERMINISTIC_ROLE_TABLE)
    }
    tables = {name: roles for name, roles in tables.items() if roles is not None}
    lone_parts = frozenset({STD}) if any(name in tables for name in GAUSSIAN_ROLE_TABLES) else frozenset()
    if isinstance(explicit, str) and explicit:
        hints = name_hints(explicit)
        return ModelHints(
            families=hints.families or frozenset({_infer_deterministic(model, table)}),
            is_target=hints.is_target,
            ordinal=role_ordinal(explicit),
            lone_parts=lone_parts,
            description=f"migration_role {explicit!r}",
        )
    families: set[str] = set()
    roles: list[str] = []
    for name, role_table in tables.items():
        for role in role_table.roles:
            roles.append(role)
            if name != DETERMINISTIC_ROLE_TABLE:
                families.add(POLICY)
            else:
                families |= name_hints(role).families or {_infer_deterministic(model, table)}
    ordinals = {role_ordinal(role) for role in roles} - {None}
    return ModelHints(
        families=frozenset(families),
        is_target=any(name_hints(role).is_target for role in roles),
        ordinal=ordinals.pop() if len(ordinals) == 1 else None,
        lone_parts=lone_parts,
        description=f"roles {roles}" if roles else "no mixin roles",
    )


def _infer_deterministic(model: object, table: Mapping[str, Shape]) -> str:
    """Whether a deterministic model whose role names say neither is a "policy" or a "value"."""
    weights = [shape for name, shape in table.items() if name.endswith("weight") and len(shape) == 2]
    num_observations = getattr(model, "num_observations", None)
    num_actions = getattr(model, "num_actions", None)
    if weights and num_observations and num_actions and weights[0][1] == num_observations + num_actions:
        return VALUE  # a critic: Q(s, a)
    roles = getattr(model, DETERMINISTIC_ROLE_TABLE, None)
    if roles is not None and any(roles.settings(role) for role in roles.roles):
        return POLICY  # clip_actions: its outputs are actions
    action_space = getattr(model, "action_space", None)
    if weights and action_space is not None and spaces.is_discrete(action_space):
        return VALUE  # a Q-network over discrete actions
    if weights and weights[-1][0] == 1:
        return VALUE
    return POLICY
