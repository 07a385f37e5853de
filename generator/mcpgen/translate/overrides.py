"""Per-operation overrides from the mapping: names, texts, annotations, arguments, reply fields."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..errors import McpgenError, escape_pointer
from ..ir import JsonSchema, Tool
from ..load import Source
from ..mapping import OperationOverride
from ..naming import tool_name_ok

__all__ = ["apply_override", "trim_schema"]


def _fail(source: Source | None, pointer: str, message: str) -> McpgenError:
    if source is None:
        return McpgenError.single("mapping", message)
    return source.error("mapping", message, pointer)


def apply_override(
    tool: Tool, override: OperationOverride, key: str | None, source: Source | None
) -> Tool:
    if key is None:
        return tool
    where = "/operations/" + escape_pointer(key)
    update: dict[str, Any] = {}
    if override.name is not None:
        if not tool_name_ok(override.name):
            raise _fail(
                source,
                where + "/name",
                f"'{override.name}' is not a valid tool name "
                "(letters, digits, _ and -, at most 64)",
            )
        update["name"] = override.name
    if override.title is not None:
        update["title"] = override.title
    if override.description is not None:
        update["description"] = override.description
    if override.annotations is not None:
        given = override.annotations.model_dump(exclude_none=True)
        update["annotations"] = tool.annotations.model_copy(update=given)
    if override.arguments:
        update.update(_arguments(tool, override, where, source))
    if override.keep_fields:
        if tool.output_schema is None:
            raise _fail(source, where + "/keep_fields", "the operation has no JSON reply to cut")
        update["output_schema"] = _trim_output(tool, override.keep_fields)
        update["keep_fields"] = tuple(override.keep_fields)
    if override.uri is not None:
        update["uri"] = override.uri
    if override.scopes is not None:
        update["scopes"] = tuple(sorted(set(override.scopes)))
    if override.search:
        phrases = (" ".join(phrase.split()) for phrase in override.search)
        update["search_phrases"] = tuple(dict.fromkeys(phrases))
    return tool.model_copy(update=update)


def _arguments(
    tool: Tool, override: OperationOverride, where: str, source: Source | None
) -> dict[str, Any]:
    schema = copy.deepcopy(tool.input_schema)
    properties: dict[str, Any] = schema["properties"]
    required: list[str] = list(schema.get("required", []))
    params = {p.arg: p for p in tool.params}
    fixed = dict(tool.fixed)
    renamed: dict[str, str] = {}
    for arg, change in override.arguments.items():
        here = f"{where}/arguments/{escape_pointer(arg)}"
        if arg not in properties:
            raise _fail(
                source, here, f"the tool has no argument '{arg}' (it has: {', '.join(properties)})"
            )
        if change.hidden:
            if arg in required and change.value is None:
                raise _fail(source, here, f"'{arg}' is required: a hidden value needs `value`")
            del properties[arg]
            required = [r for r in required if r != arg]
            py_name = params[arg].py_name if arg in params else _body_py_name(tool, arg)
            if change.value is not None:
                fixed[py_name] = change.value
            continue
        if change.description is not None:
            properties[arg] = _described(properties[arg], change.description)
        if change.name is not None:
            if change.name in properties:
                raise _fail(source, here + "/name", f"'{change.name}' is already an argument")
            properties[change.name] = properties.pop(arg)
            required = [change.name if r == arg else r for r in required]
            renamed[arg] = change.name
    schema["properties"] = properties
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    new_params = tuple(p.model_copy(update={"arg": renamed.get(p.arg, p.arg)}) for p in tool.params)
    update: dict[str, Any] = {"input_schema": schema, "params": new_params, "fixed": fixed}
    body = tool.body
    if body is not None and body.arg in renamed:
        update["body"] = body.model_copy(update={"arg": renamed[body.arg]})
    return update


def _described(schema: JsonSchema | bool, description: str) -> JsonSchema:
    """The argument's schema with a new description (a boolean one becomes an object)."""
    if schema is True:
        return {"description": description}
    if schema is False:
        return {"description": description, "not": {}}
    return {**schema, "description": description}


def _body_py_name(tool: Tool, arg: str) -> str:
    if tool.body is not None and tool.body.arg == arg and tool.body.py_name:
        return tool.body.py_name
    raise McpgenError.single("mapping", f"argument '{arg}' cannot be hidden")


def _trim_output(tool: Tool, fields: list[str]) -> JsonSchema:
    assert tool.output_schema is not None
    schema = copy.deepcopy(tool.output_schema)
    defs = schema.pop("$defs", {})
    paths = [f.split(".") for f in fields]
    if tool.output_wrapped:
        paths = [["result", *p] for p in paths]
    trimmed = trim_schema(schema, paths, defs)
    if defs and "#/$defs/" in json.dumps(trimmed):
        trimmed["$defs"] = defs
    return trimmed


def trim_schema(schema: JsonSchema, paths: list[list[str]], defs: dict[str, Any]) -> JsonSchema:
    """Keep only the listed property paths; arrays are stepped through; refs are inlined.
    A boolean subschema is kept as it is."""
    if isinstance(schema.get("$ref"), str):
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
        schema = {**copy.deepcopy(target), **{k: v for k, v in schema.items() if k != "$ref"}}
    if schema.get("type") == "array" or "items" in schema:
        items = schema.get("items")
        if isinstance(items, dict):
            return {**schema, "items": trim_schema(items, paths, defs)}
        return schema
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    kept: dict[str, Any] = {}
    for name, sub in properties.items():
        below = [p[1:] for p in paths if p and p[0] == name]
        if not below:
            continue
        kept[name] = (
            sub
            if isinstance(sub, bool) or any(not p for p in below)
            else trim_schema(sub, [p for p in below if p], defs)
        )
    result = {**schema, "properties": kept}
    if "required" in schema:
        result["required"] = [r for r in schema["required"] if r in kept]
        if not result["required"]:
            del result["required"]
    return result
