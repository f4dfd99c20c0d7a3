"""Environments: wrappers that give agents torch tensors."""
