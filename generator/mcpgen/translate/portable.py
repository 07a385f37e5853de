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
- The MCP Inspector's portability lint warns on every `"type": [...]` array (it suggests
  `anyOf` branches of one type each) and on schemas that constrain nothing (`{}`). (It also
  calls a bare `true` or `false` where a schema object is expected an error; the boolean
  schemas of OpenAPI 3.1 documents are kept as written, see `boolean_schemas`.)
- Ajv, what JavaScript clients validate with, in strict mode refuses type arrays, formats it
  does not know, keywords for a type the schema does not declare, `required` names without a
  property, and patterns that are not ECMAScript `u`-mode regular expressions; its default
  (draft-07) meta-schema refuses repeated enum values.

So every emitted schema is rewritten into the spelling all of them take. Each rule but one
keeps exactly the instances the schema accepted:

- a type union (OpenAPI 3.0 `nullable`, a 3.1 type array) becomes `anyOf` branches of one
  `type` each, each holding the keywords of its type; annotations, `enum` and `const` stay
  outside;
- keywords of a type the schema cannot be (`uniqueItems` beside `"type": "boolean"`, as in
  Kubernetes' description) are dropped: they never applied;
- a schema that accepts any value (`{}`, or annotations only) lists the JSON types in `anyOf`
  (those its context allows), and `{}` beside `additionalProperties` and the like is `true`;
- a `required` name without a property gets a property that accepts any value;
- a pattern loses the escapes of characters that need none (`\\-`, `\\_`, `\\#`): ECMAScript's
  `u` mode refuses them, and they match the same characters;
- `format` is kept when it is a JSON Schema format or an OpenAPI data-type format that
  standard validators know (`FORMATS`); any other (Stripe's `unix-time`, `decimal`) moves
  into the description, where the model still reads it;
- `enum` lists each JSON value once.

A schema without `type` whose `anyOf` (or `oneOf`) branches all declare theirs gets their
union (the same instances). The one rule that narrows: any other schema with keywords of one
type and no `type` (`properties` without `"type": "object"`, common in specs) gets that type,
as its authors meant and as clients need; keywords of several types give a union of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
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

# Every JSON value is one of these (integers are numbers): a schema accepting any value.
_ANY_TYPES = ("object", "array", "string", "number", "boolean", "null")
_NUMERIC = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_NUMERIC_FORMATS = frozenset({"int32", "int64", "float", "double"})
_BY_TYPE: dict[str, frozenset[str]] = {  # `format` goes with the type its value names
    "string": frozenset(
        {
            "minLength",
            "maxLength",
            "pattern",
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
_TYPED = frozenset().union(*_BY_TYPE.values()) | {"format"}
_GROUPS = ("object", "array", "string", "number")  # the types keywords imply, in this order

# Keywords whose value is a schema (or a list or map of them), and whether the subschema
# describes the same instance (applicators) or a part of it.
_SAME_ONE = frozenset({"not", "if", "then", "else"})
_SAME_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SAME_MAPS = frozenset({"dependentSchemas"})
_PART_ONE = frozenset({"items", "contains", "propertyNames", "contentSchema"})
_PART_LISTS = frozenset({"prefixItems"})
_PART_MAPS = frozenset({"properties", "patternProperties", "$defs"})
_OPEN = frozenset(  # a part's schema where `true` is as clear as a schema object
    {"additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems"}
)
# What the Inspector counts as constraining an instance (besides an `if` with a branch).
_CONSTRAINING = _TYPED | frozenset(
    {
        "type",
        "enum",
        "const",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "additionalItems",
        "dependencies",
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
    }
)
_NOT_ESCAPED_IN_U_MODE = frozenset("dDsSwWbBnrtfv0123456789cxukpP^$\\.*+?()[]{}|/")


def portable(schema: Any, allowed: Iterable[str] | None = None) -> Any:
    """`schema` (a JSON Schema 2020-12 document or subschema) in the portable profile.

    `allowed`: the types the instance can have, when an enclosing schema of the same
    instance already says so (subschemas of `allOf`, `anyOf`, ... inherit them)."""
    context = tuple(allowed) if allowed is not None else None
    if not isinstance(schema, Mapping):
        return schema  # boolean schemas (3.1) stay as the spec wrote them
    node = dict(schema)
    if isinstance(node.get("enum"), list):
        node["enum"] = _distinct(node["enum"])
    if isinstance(node.get("pattern"), str):
        node["pattern"] = _u_mode(node["pattern"])
    types = _types(node, context)
    fmt = node.get("format")
    if isinstance(fmt, str) and (fmt not in FORMATS or not _fits(fmt, types)):
        del node["format"]
        node = _described(node, f"format: {fmt}")
    if types is not None:
        # A type inherited from one enclosing type needs no repeating; a union does, since
        # the enclosing schema is split into branches and keeps no `type` of its own.
        node = _typed(node, types, declare=context is None or len(context) > 1)
    node = _define_required(node)
    node = _children(node, types)
    if not _constrains(node):
        return {**_any(context), **node}
    declared = node.get("type")
    if isinstance(declared, list):
        node = _split(node, declared)
    return node


def _types(node: dict[str, Any], context: tuple[str, ...] | None) -> list[str] | None:
    """The types the node's instance can have: declared (within its context), inherited, or
    implied by its keywords; None when nothing says."""
    declared = node.get("type")
    if isinstance(declared, str):
        declared = [declared]
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        kinds = list(dict.fromkeys(declared))
        if context is not None:
            kinds = [t for t in kinds if _allows(context, t)] or kinds
        return kinds
    if declared is not None:
        return None
    if context is not None:
        return list(context)
    alternatives = _alternatives(node)
    if alternatives is not None:
        return alternatives
    implied = [kind for kind in _GROUPS if _keywords(kind, node.get("format")) & node.keys()]
    return implied or None


def _alternatives(node: Mapping[str, Any]) -> list[str] | None:
    """The types an `anyOf` or `oneOf` whose every branch declares its types allows."""
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if not isinstance(branches, list) or not branches:
            continue
        found: list[str] = []
        for branch in branches:
            declared = branch.get("type") if isinstance(branch, Mapping) else None
            names = [declared] if isinstance(declared, str) else declared
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                return None
            found += names
        return list(dict.fromkeys(found))
    return None


def _format_type(fmt: str) -> str:
    return "number" if fmt in _NUMERIC_FORMATS else "string"


def _fits(fmt: str, types: list[str] | None) -> bool:
    """Whether the format names a type the instance can have (any, when unknown)."""
    return types is None or any("format" in _keywords(kind, fmt) for kind in types)


def _keywords(kind: str, fmt: Any) -> frozenset[str]:
    """The keywords that apply to instances of `kind` (with the node's `format`)."""
    found = _BY_TYPE.get(kind, frozenset())
    number = kind in ("number", "integer")
    if isinstance(fmt, str) and _format_type(fmt) == ("number" if number else kind):
        return found | {"format"}
    return found


def _allows(context: tuple[str, ...], kind: str) -> bool:
    return kind in context or (kind == "integer" and "number" in context)


def _typed(node: dict[str, Any], types: list[str], *, declare: bool) -> dict[str, Any]:
    """The node without keywords of types it cannot be; its types declared when it declared
    them already, or (`declare`) when keywords of those types need a `type` beside them."""
    keep = frozenset().union(*(_keywords(kind, node.get("format")) for kind in types))
    out = {k: v for k, v in node.items() if k not in _TYPED or k in keep}
    value = types[0] if len(types) == 1 else types
    if "type" in node:
        out["type"] = value
        return out
    if declare and _TYPED & out.keys():
        return {"type": value, **out}
    return out


def _define_required(node: dict[str, Any]) -> dict[str, Any]:
    """A property for each `required` name that has none, accepting what the object accepted
    for that name before (what `additionalProperties` allowed, unless a pattern applies).
    Beside `unevaluatedProperties`, whose reach depends on other subschemas, none is added."""
    required = node.get("required")
    if not isinstance(required, list) or "unevaluatedProperties" in node:
        return node
    patterns = node.get("patternProperties")
    if isinstance(patterns, Mapping) and not all(_compiles(p) for p in patterns):
        return node  # which names a pattern covers is unknown here
    properties = node.get("properties")
    present = properties if isinstance(properties, Mapping) else {}
    missing = [name for name in required if isinstance(name, str) and name not in present]
    if not missing:
        return node
    added = {**present, **{name: _unlisted(node, name) for name in dict.fromkeys(missing)}}
    return {**node, "properties": added}


def _unlisted(node: Mapping[str, Any], name: str) -> Any:
    """What the object accepts as the value of a property it does not list."""
    patterns = node.get("patternProperties")
    if isinstance(patterns, Mapping) and any(_matches(p, name) for p in patterns):
        return _any(None)  # the pattern's schema still applies, beside the new property
    extra = node.get("additionalProperties", True)
    if extra is True or extra == {}:
        return _any(None)
    return {"not": {}} if extra is False else extra


def _matches(pattern: Any, name: str) -> bool:
    return isinstance(pattern, str) and re.search(pattern, name) is not None


def _compiles(pattern: Any) -> bool:
    try:
        re.compile(pattern)
    except (re.error, TypeError):
        return False
    return True


def _children(node: dict[str, Any], types: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SAME_ONE:
            out[key] = portable(value, types) if key != "not" else _negated(value)
        elif key in _SAME_LISTS and isinstance(value, list):
            out[key] = [portable(v, types) for v in value]
        elif key in _SAME_MAPS and isinstance(value, Mapping):
            out[key] = {name: portable(v, types) for name, v in value.items()}
        elif key in _PART_ONE:
            out[key] = portable(value)
        elif key in _PART_LISTS and isinstance(value, list):
            out[key] = [portable(v) for v in value]
        elif key in _PART_MAPS and isinstance(value, Mapping):
            out[key] = {name: portable(v) for name, v in value.items()}
        elif key in _OPEN:
            out[key] = (
                True if value == {} else value if isinstance(value, bool) else portable(value)
            )
        else:
            out[key] = value
    return out


def _negated(value: Any) -> Any:
    """`not`'s schema: `{}` there is the clear way to say "nothing", keep it."""
    return value if value == {} else portable(value)


def _constrains(node: Mapping[str, Any]) -> bool:
    return bool(_CONSTRAINING & node.keys()) or (
        "if" in node and ("then" in node or "else" in node)
    )


def _any(context: tuple[str, ...] | None) -> dict[str, Any]:
    """A schema accepting every value of the allowed types (of every type when None)."""
    kinds = context if context is not None else _ANY_TYPES
    if len(kinds) == 1:
        return {"type": kinds[0]}
    return {"anyOf": [{"type": kind} for kind in kinds]}


def _described(node: dict[str, Any], note: str) -> dict[str, Any]:
    """`note` appended to the description, in parentheses (or as the description)."""
    description = node.get("description")
    text = f"{description} ({note})" if isinstance(description, str) and description else note
    return {**node, "description": text}


def _split(node: dict[str, Any], types: list[Any]) -> dict[str, Any]:
    """A type union as `anyOf` branches of one type each."""
    if not types or not all(isinstance(t, str) for t in types):
        return node
    branches = []
    for kind in types:
        keywords = _keywords(kind, node.get("format"))
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


def _u_mode(pattern: str) -> str:
    """The pattern without identity escapes of characters that need none (`\\-` outside a
    class, `\\_`, `\\#`, ...), which ECMAScript's `u` mode refuses; the same matches."""
    out = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            needed = escaped in _NOT_ESCAPED_IN_U_MODE or (in_class and escaped == "-")
            out.append(char + escaped if needed or escaped.isalnum() else escaped)
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


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
