"""Python type expressions for converted schemas, for typed signatures in generated code.

Only builtins and the names `Any` and `Literal` (from `typing`) appear in the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..boolean_schemas import accepts_nothing

__all__ = ["accepts_nothing", "python_type"]

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_DICT = "dict[str, Any]"
_OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "additionalProperties",
        "patternProperties",
        "unevaluatedProperties",
        "dependentSchemas",
        "required",
        "propertyNames",
    }
)
_NULL = {"type": "null"}


def python_type(schema: Mapping[str, Any] | bool, defs: Mapping[str, Any]) -> str:
    """`str`, `int`, `float`, `bool`, `list[...]`, `dict[str, Any]`, `Literal[...]` or `Any`,
    with `| None` when null is allowed too.

    A boolean schema is `Any` (`true` accepts anything; no value passes `false`, and its
    argument is refused by the input schema before the handler runs); branches of a union
    that accept nothing add nothing to its type."""
    return _type(schema, defs, frozenset())


def _optional(base: str) -> str:
    return base if base in ("Any", "None") else f"{base} | None"


def _type(schema: Any, defs: Mapping[str, Any], seen: frozenset[str]) -> str:
    if not isinstance(schema, Mapping):
        return "Any"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.removeprefix("#/$defs/")
        if name in seen or name not in defs:
            return _DICT if name in seen else "Any"
        return _type(defs[name], defs, seen | {name})
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            possible = [b for b in branches if not accepts_nothing(b)]
            return _union(possible or branches, defs, seen)
    if "const" in schema:
        return _literal([schema["const"]]) or "Any"
    if isinstance(schema.get("enum"), list):
        return _enum(schema["enum"], schema, defs, seen)
    return _typed(schema, defs, seen)


def _typed(schema: Mapping[str, Any], defs: Mapping[str, Any], seen: frozenset[str]) -> str:
    value = schema.get("type")
    types = [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
    concrete = [t for t in types if t != "null"]
    if len(types) > len(concrete):
        return _optional(_typed({**schema, "type": concrete}, defs, seen)) if concrete else "None"
    if len(concrete) > 1:
        return "Any"
    kind = concrete[0] if concrete else None
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array" or (kind is None and "items" in schema):
        items = schema.get("items")
        return f"list[{_type(items, defs, seen) if items is not None else 'Any'}]"
    if kind == "object" or _OBJECT_KEYWORDS & schema.keys():
        return _DICT
    members = schema.get("allOf")
    if isinstance(members, list) and members:
        return _union(members, defs, seen)
    return "Any"


def _enum(
    values: list[Any], schema: Mapping[str, Any], defs: Mapping[str, Any], seen: frozenset[str]
) -> str:
    concrete = [v for v in values if v is not None]
    literal = _literal(concrete)
    if literal is None:
        literal = _typed({k: v for k, v in schema.items() if k != "enum"}, defs, seen)
        if literal.endswith(" | None"):
            literal = literal.removesuffix(" | None")
    return _optional(literal) if len(concrete) < len(values) else literal


def _literal(values: list[Any]) -> str | None:
    """`Literal[...]` of string, integer or boolean values; None for anything else."""
    if not values or not all(isinstance(v, str | int) for v in values):
        return None
    shown = list(dict.fromkeys(repr(v) for v in values))
    return f"Literal[{', '.join(shown)}]"


def _union(branches: list[Any], defs: Mapping[str, Any], seen: frozenset[str]) -> str:
    concrete = [b for b in branches if b != _NULL]
    found = list(dict.fromkeys(_type(b, defs, seen) for b in concrete))
    if len(found) == 1:
        base = found[0]
    elif found and all(t.startswith("dict[") for t in found):
        base = _DICT
    else:
        base = "Any"
    return _optional(base) if len(concrete) < len(branches) else base
