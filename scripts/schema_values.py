"""Deterministic tool arguments drawn from an input schema (JSON Schema 2020-12, as mcpgen
writes it), for calling every tool of real APIs.

    arguments(schema, "minimal")   # the required arguments only (nested: required fields)
    arguments(schema, "full")      # every argument, nested objects filled in too

Values honour `const`, `enum`, `default`, `format`, `pattern` (a matching string is built
from the regular expression), lengths, bounds, `multipleOf`, `anyOf`/`oneOf` (the first
branch that validates), `allOf` (objects merged), `$ref` into `$defs` (recursion cut off)
and `nullable` types. The result is checked with jsonschema: a value that does not validate
is never returned (None instead).
"""

from __future__ import annotations

import base64
import importlib
import math
import re
import warnings
from collections.abc import Mapping
from typing import Any, Literal

from jsonschema import Draft202012Validator

__all__ = ["Mode", "arguments", "string_for_pattern", "value"]

Mode = Literal["minimal", "full"]
# The standard library's own regular-expression parser (private modules, hence no types).
_SRE: Any = importlib.import_module("re._parser")
_CONSTANTS: Any = importlib.import_module("re._constants")
_MAX_DEPTH = 10
_FORMATS = {
    "date": "2024-01-31",
    "date-time": "2024-01-31T12:00:00Z",
    "time": "12:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/x",
    "url": "https://example.com/x",
    "uri-reference": "https://example.com/x",
    "iri": "https://example.com/x",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
    "byte": base64.b64encode(b"sample").decode(),
    "binary": base64.b64encode(b"sample").decode(),
    "int32": "1",
    "int64": "1",
    "password": "sample-password",
}


class _UnsureError(Exception):
    """No value could be built for a schema."""


def arguments(schema: Mapping[str, Any], mode: Mode) -> dict[str, Any] | None:
    """Arguments valid against a tool's input schema, or None when none could be built."""
    built = value(schema, mode)
    return built if isinstance(built, dict) else None


def value(schema: Mapping[str, Any], mode: Mode) -> Any:
    """An instance valid against `schema` (its `$defs` at the root), or None if unsure."""
    defs = schema.get("$defs") or {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # patterns from real specs can warn when compiled
            result = _Builder(defs, mode).build(schema, 0, ())
            validator = Draft202012Validator(dict(schema))
            return result if validator.is_valid(result) else None
    except (_UnsureError, RecursionError):
        return None


class _Builder:
    def __init__(self, defs: Mapping[str, Any], mode: Mode) -> None:
        self.defs = defs
        self.mode = mode

    def build(self, schema: Any, depth: int, refs: tuple[str, ...]) -> Any:
        if schema is True or schema == {} or schema is None:
            return "sample"
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            raise _UnsureError
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in refs:
                raise _UnsureError  # recursion: the caller leaves this optional part out
            target = self.defs.get(ref.rsplit("/", 1)[-1])
            if target is None:
                raise _UnsureError
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return self.build(merged, depth + 1, (*refs, ref))
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            choices = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return choices[0]
        if "default" in schema and _valid(schema, schema["default"], self.defs):
            return schema["default"]
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._first_branch(schema, key, depth, refs)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            return self._all_of(schema, depth, refs)
        return self._typed(schema, depth, refs)

    def _first_branch(
        self, schema: Mapping[str, Any], key: str, depth: int, refs: tuple[str, ...]
    ) -> Any:
        rest = {k: v for k, v in schema.items() if k != key}
        branches = list(schema[key])
        if self.mode == "minimal":  # a null branch is the smallest value
            branches.sort(
                key=lambda b: 0 if isinstance(b, Mapping) and b.get("type") == "null" else 1
            )
        for branch in branches:
            try:
                candidate = self.build(
                    {**rest, **branch} if isinstance(branch, Mapping) else branch, depth + 1, refs
                )
            except _UnsureError:
                continue
            if _valid({**schema, "$defs": self.defs}, candidate, self.defs):
                return candidate
        raise _UnsureError

    def _all_of(self, schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]) -> Any:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for raw in schema["allOf"]:
            for key, inner in self._resolve(raw).items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **inner}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *inner]
                else:
                    merged.setdefault(key, inner)
        return self.build(merged, depth + 1, refs)

    def _resolve(self, part: Any) -> Mapping[str, Any]:
        for _ in range(_MAX_DEPTH):
            if not (isinstance(part, Mapping) and isinstance(part.get("$ref"), str)):
                break
            part = self.defs.get(part["$ref"].rsplit("/", 1)[-1], {})
        return part if isinstance(part, Mapping) else {}

    def _typed(self, schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]) -> Any:
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if kinds else "null"
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        if kind == "null":
            return None
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            return _number(schema, kind)
        if kind == "string":
            return _string(schema)
        if kind == "array":
            return self._array(schema, depth, refs)
        if kind == "object":
            return self._object(schema, depth, refs)
        raise _UnsureError

    def _array(self, schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]) -> list[Any]:
        low = int(schema.get("minItems", 0))
        count = max(low, 1) if self.mode == "full" else low
        count = min(count, int(schema.get("maxItems", count)))
        prefix = schema.get("prefixItems") or []
        items: list[Any] = []
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else schema.get("items", {})
            try:
                items.append(self.build(sub, depth + 1, refs))
            except _UnsureError:
                if index < low:
                    raise
                break
        if schema.get("uniqueItems") and len({repr(i) for i in items}) < len(items):
            items = items[:1] if low <= 1 else items
        return items

    def _object(
        self, schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]
    ) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = [str(n) for n in schema.get("required") or []]
        wanted = list(properties) if self.mode == "full" else []
        result: dict[str, Any] = {}
        for name in dict.fromkeys([*required, *wanted]):
            try:
                result[name] = self.build(properties.get(name, {}), depth + 1, refs)
            except _UnsureError:
                if name in required:
                    raise
        extra = schema.get("additionalProperties")
        low = int(schema.get("minProperties", 0))
        if len(result) < max(low, 1 if (self.mode == "full" and not properties) else 0):
            if extra is False:
                if len(result) < low:
                    raise _UnsureError
            else:
                sub = extra if isinstance(extra, Mapping) else {"type": "string"}
                try:
                    result["key"] = self.build(sub, depth + 1, refs)
                except _UnsureError:
                    if len(result) < low:
                        raise
        return result


def _valid(schema: Mapping[str, Any], instance: Any, defs: Mapping[str, Any]) -> bool:
    document = {**schema, "$defs": dict(defs)} if defs else dict(schema)
    try:
        return bool(Draft202012Validator(document).is_valid(instance))
    except (re.error, RecursionError):
        return False


def _number(schema: Mapping[str, Any], kind: str) -> int | float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    ex_low = schema.get("exclusiveMinimum")
    ex_high = schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    start: float = 1
    if isinstance(low, int | float):
        start = max(start, low) if not isinstance(high, int | float) or high >= 1 else low
    if isinstance(ex_low, int | float) and start <= ex_low:
        start = ex_low + (1 if kind == "integer" else 0.5)
    if isinstance(high, int | float) and start > high:
        start = high
    if isinstance(ex_high, int | float) and start >= ex_high:
        start = ex_high - (1 if kind == "integer" else 0.5)
    if isinstance(step, int | float) and step > 0:
        start = math.ceil(start / step) * step
    return int(start) if kind == "integer" else float(start)


def _string(schema: Mapping[str, Any]) -> str:
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if schema.get("contentEncoding") == "base64":
        return base64.b64encode(b"sample").decode()
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        text = string_for_pattern(pattern)
        if text is None:
            raise _UnsureError
    elif _format(schema) in _FORMATS:
        text = _FORMATS[_format(schema)]
    else:
        text = "sample"
    if len(text) < low:
        text = text + "x" * (low - len(text)) if not isinstance(pattern, str) else text
    if isinstance(high, int) and len(text) > high:
        text = text[:high] if not isinstance(pattern, str) else text
    return text


def _format(schema: Mapping[str, Any]) -> str:
    """The string's format: its `format`, or the one its description names, as the portable
    profile writes a format that validators don't know (`format: url`) and as an agent
    reads it."""
    given = schema.get("format")
    if isinstance(given, str):
        return given
    found = _DESCRIBED_FORMAT.search(str(schema.get("description") or ""))
    return found.group(1) if found else ""


_DESCRIBED_FORMAT = re.compile(r"\bformat: ([A-Za-z0-9_-]+)")


def string_for_pattern(pattern: str) -> str | None:
    """A string in which `pattern` matches (re.search), built from the expression; None when
    the expression is beyond this simple builder."""
    try:
        parsed = _SRE.parse(pattern)
        text = _from_parsed(parsed, {})
        return text if re.search(pattern, text) else None
    except (re.error, _UnsureError, RecursionError, OverflowError, ValueError):
        return None


def _from_parsed(items: Any, groups: dict[int, str]) -> str:
    c = _CONSTANTS
    out: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(chr(av))
        elif op is c.ANY:
            out.append("a")
        elif op is c.NOT_LITERAL:
            out.append("b" if av == ord("a") else "a")
        elif op is c.IN:
            out.append(_from_set(av))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = av
            out.append(_from_parsed(sub, groups) * min(int(low), 64))
        elif op is c.SUBPATTERN:
            group, _add, _del, sub = av
            text = _from_parsed(sub, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is c.BRANCH:
            out.append(_from_parsed(av[1][0], groups))
        elif op is c.GROUPREF:
            out.append(groups.get(av, ""))
        elif op is c.CATEGORY:
            out.append(_from_category(av))
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:
            raise _UnsureError
    return "".join(out)


def _from_category(category: Any) -> str:
    name = str(category)
    if "NOT_DIGIT" in name or "NOT_SPACE" in name:
        return "a"
    if "NOT_WORD" in name:
        return "-"
    if "DIGIT" in name:
        return "0"
    if "SPACE" in name:
        return " "
    return "a"


def _from_set(items: Any) -> str:
    c = _CONSTANTS
    if items and items[0][0] is c.NEGATE:
        excluded = items[1:]
        for candidate in "aA0_-x.":
            if not any(_in(candidate, op, av) for op, av in excluded):
                return candidate
        raise _UnsureError
    for op, av in items:
        if op is c.LITERAL:
            return chr(av)
        if op is c.RANGE:
            low, high = av
            # a letter or digit from the range when it holds one, else its first character
            for candidate in "a0A":
                if low <= ord(candidate) <= high:
                    return candidate
            return chr(low)
        if op is c.CATEGORY:
            return _from_category(av)
    raise _UnsureError


def _in(char: str, op: Any, av: Any) -> bool:
    c = _CONSTANTS
    if op is c.LITERAL:
        return bool(ord(char) == av)
    if op is c.RANGE:
        return bool(av[0] <= ord(char) <= av[1])
    if op is c.CATEGORY:
        return _from_category(av) == char
    return True
