"""Action-space bounds for mixins that clip actions."""

from __future__ import annotations

from torch import nn

from rlblocks import logger
from rlblocks.utils import spaces


def register_action_bounds(model: nn.Module, mixin: str, clip_actions: bool) -> bool:
    """Give ``model`` the buffers ``clip_actions_min``/``clip_actions_max`` (flat, (A,)) of its Box space.

    The buffers are not persistent (they are not in the state dict) but follow ``.to()``.

    Returns:
        Whether clipping is enabled: False, with a warning, for an int or shape action space,
        which has no bounds.

    Raises:
        ValueError: the action space is a space other than Box.
    """
    if not clip_actions:
        return False
    kind = spaces.space_kind(model.action_space)
    if kind in ("int", "shape"):
        logger.warning(
            f"{mixin}: clip_actions=True ignored, the action space {model.action_space!r} has no bounds; "
            "pass a gymnasium Box to clip"
        )
        return False
    if kind != "box":
        raise ValueError(
            f"{mixin}(clip_actions=True) needs a Box action space, got {model.action_space}; "
            "discrete actions are always valid, so pass clip_actions=False."
        )
    low, high = spaces.box_bounds(model.action_space, model.device)
    model.register_buffer("clip_actions_min", low, persistent=False)
    model.register_buffer("clip_actions_max", high, persistent=False)
    return True
