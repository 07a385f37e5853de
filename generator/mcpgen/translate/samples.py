"""Minimal valid instances of JSON Schemas, for the generated project's own tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from .schemas_pytype import accepts_nothing

__all__ = ["sample"]

_MAX_DEPTH = 6
_FORMATS = {
    "date": "2024-01-31",
    "date-time": "2024-01-31T12:00:00Z",
    "time": "12:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/x",
    "url": "https://example.com/x",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}
_MISSING = object()


def sample(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Any | None:
    """A small instance valid against `schema` (with `defs` as its `$defs`), or None if unsure.

    The result is checked against the schema: a sample that does not validate is never returned.
    """
    value = _sample(schema, defs, 0)
    if value is _MISSING:
        return None
    document = {**schema, "$defs": dict(defs)} if defs else dict(schema)
    if not Draft202012Validator(document).is_valid(value):
        return None
    return value


def _sample(schema: Any, defs: Mapping[str, Any], depth: int) -> Any:
    if schema is True or schema == {}:
        return "sample"
    if not isinstance(schema, Mapping) or accepts_nothing(schema) or depth > _MAX_DEPTH:
        return _MISSING
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    if isinstance(schema.get("$ref"), str):
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1])
        return _sample(target, defs, depth + 1) if target is not None else _MISSING
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            for branch in schema[key]:
                value = _sample(branch, defs, depth + 1)
                if value is not _MISSING:
                    return value
            return _MISSING
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _sample(part, defs, depth + 1)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    return _typed(schema, defs, depth)


def _typed(schema: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if kinds else "null"
    if kind == "null":
        return None
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(1, int(low) + (1 if "exclusiveMinimum" in schema else 0))
        return value if kind == "integer" else float(value)
    if kind == "string":
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind == "array":
        count = int(schema.get("minItems", 0))
        item = _sample(schema.get("items", {}), defs, depth + 1)
        return [] if count == 0 or item is _MISSING else [item] * count
    if kind == "object" or "properties" in schema:
        result: dict[str, Any] = {}
        properties = schema.get("properties") or {}
        others = schema.get("additionalProperties", True)
        for name in schema.get("required") or []:
            value = _sample(properties.get(name, others), defs, depth + 1)
            if value is _MISSING:
                return _MISSING
            result[name] = value
        return result
    return "sample"
