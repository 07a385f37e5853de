"""Checks and conversions of the keywords whose values are not schemas.

Each returns the value to keep, or `DROP` after a warning when the value is unusable
(a tool schema must always pass the JSON Schema 2020-12 meta-schema).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from typing import Any, Final

from .schemas_tree import copy_json

__all__ = [
    "DROP",
    "JSON_TYPES",
    "SIMPLE_KEYWORDS",
    "Warn",
    "pattern_ok",
    "simple_keyword",
    "trim_examples",
]

Warn = Callable[[str, str, str], None]  # (code, message, pointer)

DROP: Final = object()
EXAMPLES_BYTES = 512  # examples beyond this much JSON per schema are left out
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")

_NON_NEGATIVE = frozenset(
    {
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minContains",
        "maxContains",
        "minProperties",
        "maxProperties",
    }
)
_NUMBERS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_STRINGS = frozenset({"format", "contentEncoding", "contentMediaType"})
_TEXTS = frozenset({"title", "description"})
_BOOLEANS = frozenset({"uniqueItems", "deprecated", "readOnly", "writeOnly"})
_DATA = frozenset({"default", "const"})
SIMPLE_KEYWORDS = (
    _NON_NEGATIVE
    | _NUMBERS
    | _STRINGS
    | _TEXTS
    | _BOOLEANS
    | _DATA
    | {"type", "enum", "examples", "required", "pattern", "multipleOf"}
)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _invalid(key: str, expected: str, at: str, warn: Warn) -> object:
    warn("schema-keyword", f"dropped '{key}': expected {expected}", at)
    return DROP


def simple_keyword(key: str, value: Any, at: str, warn: Warn) -> Any:
    """The converted value of a keyword from `SIMPLE_KEYWORDS`, or `DROP`."""
    if key in _DATA:
        return copy_json(value)
    if key in _TEXTS:
        return _text(key, value, at, warn)
    if key in _STRINGS:
        return value if isinstance(value, str) else _invalid(key, "a string", at, warn)
    if key in _BOOLEANS:  # false is the default: not worth the bytes
        return (
            (value or DROP) if isinstance(value, bool) else _invalid(key, "true or false", at, warn)
        )
    if key in _NUMBERS:
        return value if _is_number(value) else _invalid(key, "a number", at, warn)
    if key in _NON_NEGATIVE:
        return _count(key, value, at, warn)
    return _SPECIAL[key](value, at, warn)


def _text(key: str, value: Any, at: str, warn: Warn) -> Any:
    if not isinstance(value, str):
        return _invalid(key, "a string", at, warn)
    text = value.strip()
    return text if text else DROP


def _count(key: str, value: Any, at: str, warn: Warn) -> Any:
    if _is_number(value) and value >= 0 and float(value).is_integer():
        return int(value)
    return _invalid(key, "a non-negative integer", at, warn)


def _type(value: Any, at: str, warn: Warn) -> Any:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        return _invalid("type", "a type name or a list of them", at, warn)
    kept: list[str] = []
    for given in names:
        name = "string" if given == "file" else given  # Swagger 2 file upload: binary string
        if name not in JSON_TYPES:
            warn("schema-keyword", f"dropped unknown type '{name}'", at)
        elif name not in kept:
            kept.append(name)
    if not kept:
        return DROP
    return kept[0] if isinstance(value, str) else kept


def _enum(value: Any, at: str, warn: Warn) -> Any:
    return copy_json(value) if isinstance(value, list) else _invalid("enum", "a list", at, warn)


def _examples(value: Any, at: str, warn: Warn) -> Any:
    if not isinstance(value, list):
        return _invalid("examples", "a list", at, warn)
    return trim_examples(value)


def trim_examples(values: list[Any]) -> Any:
    """The leading examples that fit in `EXAMPLES_BYTES` of JSON (some APIs give 400 kB)."""
    kept: list[Any] = []
    room = EXAMPLES_BYTES
    for value in values:
        room -= len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))
        if room < 0:
            break
        kept.append(copy_json(value))
    return kept if kept else DROP


def _required(value: Any, at: str, warn: Warn) -> Any:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return _invalid("required", "a list of property names", at, warn)
    names = list(dict.fromkeys(value))
    return names if names else DROP


def _pattern(value: Any, at: str, warn: Warn) -> Any:
    if not isinstance(value, str):
        return _invalid("pattern", "a string", at, warn)
    if not pattern_ok(value):
        warn("schema-pattern", f"dropped pattern '{value}': not a regular expression here", at)
        return DROP
    return value


def pattern_ok(pattern: str) -> bool:
    """Whether Python's `re` (used by jsonschema) accepts the pattern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": still valid
        try:
            re.compile(pattern)
        except re.error:
            return False
    return True


def _multiple_of(value: Any, at: str, warn: Warn) -> Any:
    if _is_number(value) and value > 0:
        return value
    return _invalid("multipleOf", "a number above 0", at, warn)


_SPECIAL: dict[str, Callable[[Any, str, Warn], Any]] = {
    "type": _type,
    "enum": _enum,
    "examples": _examples,
    "required": _required,
    "pattern": _pattern,
    "multipleOf": _multiple_of,
}
