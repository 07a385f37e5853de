"""Meta-schema checks of every emitted schema, paid once per distinct subschema.

Tools of a large API share most of their definitions (GitHub's `repository` schema appears in
hundreds of tools); checking each tool's schema whole against the JSON Schema 2020-12
meta-schema costs minutes. Whether a schema is valid depends only on its own keywords and on its
subschemas being valid, so each node is checked as a "shell" (its subschemas replaced by `{}`),
and a node whose canonical form was checked before is skipped. (A map of subschemas becomes
`{}` in the shell: the meta-schema constrains its values, not its keys.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

__all__ = ["SchemaChecker"]

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "contentSchema",
)


# Keywords whose values the meta-schema only constrains by JSON type: one representative value
# of the right type stands for all of them, so that shells differing only there are checked once.
_ANY_VALUE = frozenset({"default", "const"})
_STRING_VALUE = frozenset({"description", "title", "pattern", "format", "$comment"})
_ARRAY_VALUE = frozenset({"examples", "enum"})


def _stand_in(key: str, value: Any) -> Any:
    if key in _ANY_VALUE:
        return None
    if key in _STRING_VALUE and isinstance(value, str):
        return ""
    if key in _ARRAY_VALUE and isinstance(value, list):
        return []
    return value


class SchemaChecker:
    def __init__(self) -> None:
        self._meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        self._valid: set[str] = set()

    def check(self, schema: Mapping[str, Any]) -> None:
        """Raise `jsonschema.SchemaError` unless `schema` is valid JSON Schema 2020-12."""
        self._node(schema)

    def _node(self, node: Any) -> str:
        """Check `node`; return a digest of its canonical form."""
        if not isinstance(node, Mapping):
            self._shell(node)
            return json.dumps(node)
        shell: dict[str, Any] = {}
        children: list[str] = []
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, Mapping):
                shell[key] = {}
                children.extend(f"{key}/{k}={self._node(v)}" for k, v in value.items())
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                shell[key] = [{}] if value else []
                children.extend(f"{key}={self._node(v)}" for v in value)
            elif key in _SCHEMA_VALUES:
                shell[key] = {}
                children.append(f"{key}={self._node(value)}")
            else:
                shell[key] = _stand_in(key, value)
        text = json.dumps(shell, sort_keys=True, separators=(",", ":"), default=str)
        self._shell_text(shell, text)
        digest = hashlib.sha1("\n".join([text, *children]).encode(), usedforsecurity=False)
        return digest.hexdigest()

    def _shell(self, node: Any) -> None:
        self._shell_text(node, json.dumps(node, sort_keys=True, default=str))

    def _shell_text(self, shell: Any, text: str) -> None:
        if text in self._valid:
            return
        error = best_match(self._meta.iter_errors(shell))
        if error is not None:
            raise SchemaError.create_from(error)
        self._valid.add(text)
