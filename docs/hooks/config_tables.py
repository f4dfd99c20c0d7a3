"""mkdocs hook: ``<!-- config-table: module.ConfigClass -->`` becomes that typed config's key table.

The table (key, default, description) is generated from the dataclass fields of the config and
the attribute docstrings written under them, so the documentation cannot drift from the code.
Nested sections (``experiment``) get their own rows with dotted keys.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import itertools
import re
from typing import Any

PLACEHOLDER = re.compile(r"<!--\s*config-table:\s*([\w.]+)\s*-->")


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace every placeholder of the page with its table."""
    return PLACEHOLDER.sub(lambda match: config_table(match.group(1)), markdown)


def config_table(dotted: str) -> str:
    """The markdown table of the config class at ``dotted`` ("rlblocks.agents.torch.ppo.config.PPOConfig")."""
    module_name, _, class_name = dotted.rpartition(".")
    config_class = getattr(importlib.import_module(module_name), class_name)
    lines = ["| key | default | description |", "|---|---|---|"]
    lines += _rows(config_class, prefix="")
    return "\n".join(lines)


def _rows(config_class: type, prefix: str) -> list[str]:
    docs = _attribute_docs(config_class)
    rows = []
    for field in dataclasses.fields(config_class):
        if field.name.startswith("_"):
            continue
        key = prefix + config_class.public_key(field.name)
        default = _default(field)
        if dataclasses.is_dataclass(default):
            rows += _rows(type(default), prefix=f"{key}.")
            continue
        description = " ".join(docs.get(field.name, "").split()).replace("|", "\\|")
        rows.append(f"| `{key}` | `{default!r}` | {description} |")
    return rows


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _attribute_docs(config_class: type) -> dict[str, str]:
    """{field: the string literal right under its annotation}, over the class and its bases."""
    docs: dict[str, str] = {}
    for klass in reversed(config_class.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for statement, following in itertools.pairwise(body):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = following.value.value
    return docs
