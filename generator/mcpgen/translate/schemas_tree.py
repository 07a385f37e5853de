"""The converted-schema tree shared by the schema modules: references, keyword groups, merging.

A *template* is a converted schema in which references to other schemas are still `Ref`
objects; a session later places each one inline or as `{"$ref": "#/$defs/..."}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

__all__ = [
    "ANNOTATIONS",
    "COMPOSITION",
    "IN_PLACE",
    "SCHEMA_LIST",
    "SCHEMA_MAP",
    "SCHEMA_ONE",
    "SILENT_KEYWORDS",
    "Direction",
    "Ref",
    "Template",
    "annotation_only",
    "copy_json",
    "merge",
    "ordered",
]


@dataclass(frozen=True)
class Ref:
    """A reference to the schema at `target` (a canonical pointer), with sibling keywords."""

    target: str
    siblings: dict[str, Any] = field(default_factory=dict)


Template = dict[str, Any] | bool | Ref
Direction = Literal["input", "output"]

KEYWORD_ORDER = (
    "$ref",
    "type",
    "title",
    "description",
    "format",
    "const",
    "enum",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentEncoding",
    "contentMediaType",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "prefixItems",
    "unevaluatedItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "dependentSchemas",
    "minProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
)
_RANK = {key: rank for rank, key in enumerate(KEYWORD_ORDER)}

ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}
)
SCHEMA_ONE = frozenset(
    {
        "items",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "contains",
        "not",
        "if",
        "then",
        "else",
    }
)
SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
SCHEMA_MAP = frozenset({"properties", "patternProperties", "dependentSchemas"})
# Keywords that apply subschemas to the instance itself: the properties and items these
# evaluate count as evaluated for `unevaluatedProperties` / `unevaluatedItems` beside them.
IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas"})
COMPOSITION = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else"})
# OpenAPI-only or meta keywords dropped without a warning.
SILENT_KEYWORDS = frozenset(
    {
        "discriminator",
        "xml",
        "externalDocs",
        "nullable",
        "example",
        "$comment",
        "$schema",
        "$id",
        "$defs",
        "definitions",
    }
)


def ordered(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its keywords in the fixed output order."""
    keys = list(schema)
    ranks = [_RANK[k] for k in keys]
    if ranks == sorted(ranks):
        return schema
    return {k: schema[k] for k in sorted(keys, key=_RANK.__getitem__)}


def annotation_only(schema: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(schema, dict) and all(k in ANNOTATIONS for k in schema)


def copy_json(value: Any) -> Any:
    """A deep copy of plain JSON data; anything else (e.g. YAML dates) becomes a string."""
    if isinstance(value, dict):
        return {str(k): copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def merge(members: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """One schema equivalent to `allOf: members`, or None when their keywords conflict.

    Properties and required names are united, types intersected, nested `allOf`s
    concatenated; for annotations the first member wins. Inputs are never modified.
    """
    out: dict[str, Any] = {}
    for member in members:
        for key, value in member.items():
            if key not in out:
                out[key] = value
            elif not _merge_keyword(out, key, value):
                return None
    return ordered(out)


def _merge_keyword(out: dict[str, Any], key: str, value: Any) -> bool:
    current = out[key]
    if key in ANNOTATIONS or current == value:
        return True
    if key == "properties":
        out[key] = _merge_properties(current, value)
    elif key == "required":
        out[key] = [*current, *(name for name in value if name not in current)]
    elif key == "allOf":
        out[key] = [*current, *value]
    elif key == "type":
        types = _intersect_types(current, value)
        if types is None:
            return False
        out[key] = types
    else:
        return False
    return True


def _merge_properties(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    out = dict(first)
    for name, schema in second.items():
        out[name] = _merge_pair(out[name], schema) if name in out else schema
    return out


def _merge_pair(first: Template, second: Template) -> Template:
    if first == second or second is True or second == {}:
        return first
    if first is True or first == {}:
        return second
    if isinstance(first, Ref) and annotation_only(second):
        return Ref(first.target, ordered({**second, **first.siblings}))
    if isinstance(second, Ref) and annotation_only(first):
        return Ref(second.target, ordered({**second.siblings, **first}))
    if isinstance(first, dict) and isinstance(second, dict):
        merged = merge([first, second])
        if merged is not None:
            return merged
    return {"allOf": [first, second]}


def _intersect_types(first: str | list[str], second: str | list[str]) -> str | list[str] | None:
    a = [first] if isinstance(first, str) else first
    b = [second] if isinstance(second, str) else second
    both = [t for t in a if t in b]
    if "integer" not in both and (
        ("integer" in a and "number" in b) or ("number" in a and "integer" in b)
    ):
        both.append("integer")
    if not both:
        return None
    return both[0] if len(both) == 1 else both
