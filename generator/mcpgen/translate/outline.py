"""Output schemas are outlines: the shape of a reply, to a fixed depth, without documentation.

Agents read output schemas to learn a reply's shape; clients validate every reply against them.
Field descriptions, examples, formats and value constraints of replies, and the deep expansions
of nested objects, make up most of a large API's tools/list (Stripe: 1.6 MB of output schemas
for 452 tools before outlining) and make replies that drift slightly from the spec fail
validation. An outline keeps types, properties, items, combinators and `$defs` references,
down to `DEPTH` levels of nested objects, fewer when the outline would exceed `BUDGET` bytes
(never fewer than one); deeper objects are given as `{"type": "object"}`.

An outline accepts every reply its schema accepts: boolean subschemas are kept as they are
(`items: false` still means an empty array, a property `false` one that must be absent), and
`additionalProperties` is kept unless `patternProperties` (left out) stands beside it;
`unevaluatedProperties` / `unevaluatedItems` are left out, since what they apply to depends
on keywords an outline does not keep.
"""

from __future__ import annotations

import json
from typing import Any

from ..ir import JsonSchema

__all__ = ["DEPTH", "drop_titles", "outline"]

DEPTH = 3
BUDGET = 2000  # bytes of compact JSON; a deeper outline is kept only while it fits
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


class _Outliner:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.needed: dict[str, int] = {}

    def walk(self, node: Any, budget: int) -> Any:
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            target = self.defs.get(name, {})
            if budget <= 0 and isinstance(target, dict) and "properties" in target:
                return {"type": "object"}
            self.needed[name] = max(self.needed.get(name, -1), budget)
            return {"$ref": ref}
        result: JsonSchema = {}
        if "type" in node:
            result["type"] = node["type"]
        if "properties" in node:
            if budget <= 0:
                result.setdefault("type", "object")
                return result
            result["properties"] = {
                k: self.walk(v, budget - 1) for k, v in node["properties"].items()
            }
        for key in ("items", "additionalProperties"):
            if key == "additionalProperties" and "patternProperties" in node:
                continue  # it applies to fewer properties than an outline (without those) sees
            if isinstance(node.get(key), dict):
                result[key] = self.walk(node[key], budget - (key == "additionalProperties"))
            elif key in node:
                result[key] = node[key]
        for key in _SCHEMA_LISTS:
            if isinstance(node.get(key), list):
                result[key] = [self.walk(v, budget) for v in node[key]]
        return _simplify(result)


def _simplify(node: JsonSchema) -> JsonSchema:
    """Fold `anyOf`/`oneOf` whose branches are bare types (as left by outlining) into `type`."""
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if not isinstance(branches, list) or len(node) != 1:
            continue
        unique: list[Any] = []
        for branch in branches:
            if branch not in unique:
                unique.append(branch)
        if len(unique) == 1 and isinstance(unique[0], dict):
            return dict(unique[0])
        if all(isinstance(b, dict) and set(b) == {"type"} for b in unique):
            types: list[str] = []
            for branch in unique:
                for kind in (
                    branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
                ):
                    if kind not in types:
                        types.append(kind)
            return {"type": types}
        return {key: unique}
    return node


def outline(schema: JsonSchema, defs: dict[str, Any]) -> tuple[JsonSchema, dict[str, Any]]:
    """The deepest outline within the budget, and the `$defs` it still needs."""
    for depth in range(DEPTH, 1, -1):
        root, kept = outline_to(schema, defs, depth)
        if len(json.dumps([root, kept], separators=(",", ":"))) <= BUDGET:
            return root, kept
    return outline_to(schema, defs, 1)


def outline_to(
    schema: JsonSchema, defs: dict[str, Any], depth: int
) -> tuple[JsonSchema, dict[str, Any]]:
    """The outline to `depth` levels, and the `$defs` it still needs, in their original order."""
    outliner = _Outliner(defs)
    root = outliner.walk(schema, depth)
    done: dict[str, tuple[int, Any]] = {}
    while True:
        pending = [(n, b) for n, b in outliner.needed.items() if n not in done or done[n][0] < b]
        if not pending:
            break
        for name, budget in pending:
            done[name] = (budget, outliner.walk(defs.get(name, {}), budget))
    kept = {name: done[name][1] for name in defs if name in done}
    return root, kept


_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SUBSCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contains",
)


def drop_titles(schema: Any) -> Any:
    """Input schemas without the `title` keyword below the root: in generated specs it holds
    type names (`billing_specs`), which cost tokens and tell an agent nothing."""
    if not isinstance(schema, dict):
        return schema
    result: JsonSchema = {}
    for key, value in schema.items():
        if key == "title":
            continue
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            result[key] = {k: drop_titles(v) for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            result[key] = [drop_titles(v) for v in value]
        elif key in _SUBSCHEMA_VALUES:
            result[key] = drop_titles(value)
        else:
            result[key] = value
    return result
