"""Exploration noises added to deterministic actions."""
