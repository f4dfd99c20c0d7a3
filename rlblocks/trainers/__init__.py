"""Trainers: the loop between environments and agents."""
