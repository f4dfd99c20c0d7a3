"""Checks, made once when a trainer first sees its env and agents, that they fit each other.

A policy built for another action space fails late and obscurely (gymnasium's "np.int64(2)
invalid" for a Discrete(3) policy on CartPole) or not at all (a Discrete(1) agent never takes
CartPole's second action); a memory made for another number of environments fails at its first
write with a message about env indexes. Each is checked here, from the spaces' sizes alone (host
metadata, no tensor is read), and refused with the sizes, the space and the fix.
"""

from __future__ import annotations

from typing import Any

from rlblocks.utils import spaces

DISCRETE_KINDS = frozenset({"discrete", "multi_discrete"})


def check_agent_fits_env(agent: Any, env: Any, num_envs: int) -> None:
    """Refuse an agent whose spaces, models or memory do not fit the env it is given.

    Args:
        agent: the agent (its ``observation_space``, ``action_space``, ``models`` and ``memory``).
        env: the wrapped env (its single-env ``observation_space`` and ``action_space``).
        num_envs: the environments this agent steps (its scope).

    Raises:
        ValueError: an action or observation space that differs from the env's (naming the
            agent or the model role), or a memory of another ``num_envs``.
    """
    owners = [("the agent", agent)]
    models = getattr(agent, "models", None) or {}
    owners += [(f'model "{role}"', model) for role, model in models.items() if model is not None]
    for attribute, what in (("action_space", "actions"), ("observation_space", "observations")):
        env_space = getattr(env, attribute, None)
        for owner, holder in owners:
            space = getattr(holder, attribute, None)
            if env_space is not None and space is not None and not _same(space, env_space):
                raise ValueError(
                    f"{owner} of {type(agent).__name__} was built for {what} of {space}, but the env gives "
                    f"{env_space}; build {'the agent and its models' if owner == 'the agent' else 'it'} "
                    f"with the env's spaces (env.{attribute})."
                )
    memory = getattr(agent, "memory", None)
    memory_envs = getattr(memory, "num_envs", None)
    if memory_envs is not None and memory_envs not in (1, num_envs):
        raise ValueError(
            f"the memory of {type(agent).__name__} was made for num_envs={memory_envs}, but the trainer "
            f"gives it {num_envs} environments; create it with num_envs={num_envs}, e.g. "
            f"RandomMemory(memory_size={getattr(memory, 'memory_size', '...')}, num_envs={num_envs})."
        )


def _same(space: Any, env_space: Any) -> bool:
    """Whether two spaces (or sizes) describe the same actions or observations; True if unknown."""
    try:
        kind, env_kind = spaces.space_kind(space), spaces.space_kind(env_space)
        sizes = spaces.flat_size(space), spaces.flat_size(env_space)
    except (ValueError, TypeError):
        return True  # a space rlblocks cannot size: the models' own checks apply
    if "int" in (kind, env_kind) or "shape" in (kind, env_kind):
        return sizes[0] == sizes[1]  # a size, as skrl allows: only the sizes can be compared
    if (kind in DISCRETE_KINDS) != (env_kind in DISCRETE_KINDS):
        return False
    if kind == env_kind == "discrete":
        return int(space.n) == int(env_space.n)
    if kind == env_kind == "multi_discrete":
        return [int(n) for n in space.nvec.reshape(-1)] == [int(n) for n in env_space.nvec.reshape(-1)]
    return sizes[0] == sizes[1]
