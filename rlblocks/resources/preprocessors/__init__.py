"""Preprocessors: transformations applied to states and values before models see them."""
