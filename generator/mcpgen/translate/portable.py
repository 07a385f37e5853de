"""The portable profile: tool schemas in the JSON Schema that clients and model APIs accept.

MCP clients pass a tool's schemas on to a model API, and each takes its own subset of JSON
Schema. What their documentation says (2026):

- OpenAI function calling and structured outputs: `anyOf` is supported, and a nullable
  field may be `"type": [T, "null"]` or an `anyOf` with a `{"type": "null"}` branch; only
  some string formats are recognised (date-time, date, time, duration, email, hostname, ipv4,
  ipv6, uuid).
- Anthropic tool use: any JSON Schema; in strict mode a subset with `anyOf`, `null` types,
  local `$ref`s and the common string formats.
- Gemini function declarations: `parameters` is a subset of the OpenAPI 3.0 Schema object,
  one `type` per schema (no type arrays); `parametersJsonSchema` takes JSON Schema with
  `anyOf`.
- The MCP Inspector warns on every `"type": [...]` array and suggests `anyOf` branches of
  one type each; a strict Ajv (what JavaScript clients validate with) refuses type arrays
  (`allowUnionTypes`), formats it does not know, and enums with repeated values.

So every emitted schema is rewritten to the spelling all of them take:

- a type union (OpenAPI 3.0 `nullable`, or a 3.1 type array) becomes `anyOf` branches of
  one `type` each, each branch holding the keywords that apply to its type (the same
  instances are valid); annotations, `enum` and `const` stay outside;
- `format` is kept when it is a JSON Schema format or an OpenAPI data-type format that
  standard validators know (`FORMATS`); any other (Stripe's `unix-time`, `decimal`) moves
  into the description, where the model still reads it;
- `enum` lists each value once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["FORMATS", "portable"]

# JSON Schema 2020-12 formats and OpenAPI data-type formats that ajv-formats knows (the formats
# of JavaScript clients); the internationalised ones (idn-*, iri*) are not among them.
FORMATS = frozenset(
    {
        "date-time",
        "date",
        "time",
        "duration",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "uri-template",
        "uuid",
        "json-pointer",
        "relative-json-pointer",
        "regex",
        "int32",
        "int64",
        "float",
        "double",
        "byte",
        "binary",
        "password",
    }
)

_NUMERIC = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset(
        {
            "minLength",
            "maxLength",
            "pattern",
            "format",
            "contentEncoding",
            "contentMediaType",
            "contentSchema",
        }
    ),
    "number": _NUMERIC,
    "integer": _NUMERIC,
    "array": frozenset(
        {
            "items",
            "prefixItems",
            "contains",
            "minContains",
            "maxContains",
            "minItems",
            "maxItems",
            "uniqueItems",
            "unevaluatedItems",
        }
    ),
    "object": frozenset(
        {
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "propertyNames",
            "minProperties",
            "maxProperties",
            "dependentRequired",
            "dependentSchemas",
            "unevaluatedProperties",
        }
    ),
}
_TYPED = frozenset().union(*_BY_TYPE.values())

_ONE = frozenset(
    {
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
    }
)
_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})


def portable(schema: Any) -> Any:
    """`schema` (a JSON Schema 2020-12 document or subschema) in the portable profile."""
    if not isinstance(schema, Mapping):
        return schema
    node: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ONE:
            node[key] = portable(value)
        elif key in _LISTS and isinstance(value, list):
            node[key] = [portable(v) for v in value]
        elif key in _MAPS and isinstance(value, Mapping):
            node[key] = {name: portable(v) for name, v in value.items()}
        elif key == "enum" and isinstance(value, list):
            node[key] = _distinct(value)
        else:
            node[key] = value
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt not in FORMATS:
        del node["format"]
        node = _described(node, f"format: {fmt}")
    types = node.get("type")
    if isinstance(types, list):
        node = _split(node, list(dict.fromkeys(types)))
    return node


def _described(node: dict[str, Any], note: str) -> dict[str, Any]:
    """`note` appended to the description, in parentheses (or as the description)."""
    description = node.get("description")
    text = f"{description} ({note})" if isinstance(description, str) and description else note
    return {**node, "description": text}


def _split(node: dict[str, Any], types: list[Any]) -> dict[str, Any]:
    """A type union as `anyOf` branches of one type each (a single type stays as it is)."""
    if len(types) == 1:
        return {key: (types[0] if key == "type" else value) for key, value in node.items()}
    if not types or not all(isinstance(t, str) for t in types):
        return node
    branches = []
    for kind in types:
        keywords = _BY_TYPE.get(kind, frozenset())
        branches.append({"type": kind, **{k: v for k, v in node.items() if k in keywords}})
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            out["anyOf"] = branches
        elif key not in _TYPED and key != "anyOf":
            out[key] = value
    if "anyOf" in node:  # the union joins the schema's own alternatives, both must hold
        out["allOf"] = [*node.get("allOf", []), {"anyOf": node["anyOf"]}]
    return out


def _distinct(values: list[Any]) -> list[Any]:
    """Each value once, in order; equal as JSON values (1 and 1.0 are one number)."""
    seen: set[str] = set()
    kept = []
    for value in values:
        key = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value
