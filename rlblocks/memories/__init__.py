"""Memories: the buffers agents write transitions to and sample batches from."""
