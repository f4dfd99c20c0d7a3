"""Resources agents use: preprocessors (input normalisation), exploration noises, lr schedulers."""
