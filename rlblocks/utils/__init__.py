"""Utilities shared across rlblocks."""

from rlblocks.utils.seeding import set_seed

__all__ = ["set_seed"]
