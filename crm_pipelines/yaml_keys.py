"""Unknown keys in a governance YAML file are errors that name the file, line and key.

A steward's misspelt key (`severty:`, `max_lenght:`) would otherwise be parsed and ignored,
and the file would look authoritative while the code did something else. PyYAML's composed
nodes carry the line of every key, so the error can point at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ANY_KEY = "*"  # in a schema: every key is allowed; its value follows the given schema
Schema = dict[str, Any] | list[Any] | None  # None: any value (a leaf)


class GovernanceKeyError(ValueError):
    """One or more unknown keys in governance files."""


def _walk(node: yaml.Node, schema: Schema, path: str, where: Path, problems: list[str]) -> None:
    if schema is None:
        return
    if isinstance(schema, list) and isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _walk(item, schema[0], path, where, problems)
        return
    if not (isinstance(schema, dict) and isinstance(node, yaml.MappingNode)):
        return  # a wrong shape is the loader's error to report; here only keys count
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in schema:
            sub = schema[key]
        elif ANY_KEY in schema:
            sub = schema[ANY_KEY]
        else:
            allowed = ", ".join(sorted(k for k in schema if k != ANY_KEY))
            problems.append(
                f"{where}:{key_node.start_mark.line + 1}: unknown key '{key}' in {path or 'the top level'}"
                f" (known keys: {allowed})"
            )
            continue
        _walk(value_node, sub, f"{path}.{key}" if path else key, where, problems)


def unknown_keys(path: Path, schema: Schema) -> list[str]:
    """'file:line: unknown key ...' for every key of the file that the schema does not know."""
    with open(path, encoding="utf-8") as handle:
        root = yaml.compose(handle)
    problems: list[str] = []
    if root is not None:
        _walk(root, schema, "", path, problems)
    return problems
