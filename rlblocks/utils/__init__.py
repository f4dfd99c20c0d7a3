"""Utilities shared across rlblocks."""
