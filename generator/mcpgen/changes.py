"""What a regeneration changes for agents: tools added, removed and changed.

Each run records a compact summary of every tool in `.mcpgen/tools.json` (`records.py`);
the next run compares it with the new one. A change is *breaking* when an agent that worked
before can now fail: a removed tool, a removed argument, a new required argument, an argument
that no longer accepts what it did, an output of another type.

Types are summarised as JSON types: `string`, `integer|null`, `array<string>`, `any`, and
`never` for a schema that accepts no value (`false`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .boolean_schemas import accepts_nothing
from .records import ToolSummary

if TYPE_CHECKING:
    from .ir import JsonSchema, Project, Tool

__all__ = [
    "AgentChanges",
    "Change",
    "Summaries",
    "ToolChange",
    "compare",
    "render_text",
    "summarize",
]

_NO_OUTPUT = "none"  # the tool has no output schema: unstructured content only
_MAX_DEPTH = 8
_NEVER = "never"  # a schema no value passes (`false`)


Summaries = Mapping[str, ToolSummary]


@dataclass(frozen=True)
class Change:
    reason: str
    breaking: bool


@dataclass(frozen=True)
class ToolChange:
    tool: str
    kind: Literal["added", "removed", "changed"]
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> bool:
        return any(change.breaking for change in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "breaking": self.breaking,
            "changes": [{"breaking": c.breaking, "reason": c.reason} for c in self.changes],
            "kind": self.kind,
            "tool": self.tool,
        }


@dataclass(frozen=True)
class AgentChanges:
    """The comparison of two generations' tools; `previous` is False when the last
    generation's tools are unknown (a first run, or a project without `tools.json`)."""

    previous: bool
    count: int  # tools in the new generation
    tools: tuple[ToolChange, ...]

    @property
    def breaking(self) -> tuple[ToolChange, ...]:
        return tuple(change for change in self.tools if change.breaking)

    def to_json(self) -> dict[str, Any]:
        return {
            "breaking": len(self.breaking),
            "count": self.count,
            "previous": self.previous,
            "tools": [change.to_json() for change in self.tools],
        }


def summarize(project: Project) -> dict[str, ToolSummary]:
    return {tool.name: _summary(tool) for tool in sorted(project.tools, key=lambda t: t.name)}


def compare(old: Summaries | None, new: Summaries) -> AgentChanges:
    if old is None:
        return AgentChanges(previous=False, count=len(new), tools=())
    found: list[ToolChange] = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            added = Change(f"new {_noun(new[name].kind)}", breaking=False)
            found.append(ToolChange(name, "added", (added,)))
        elif name not in new:
            removed = Change(f"{_noun(old[name].kind)} removed", breaking=True)
            found.append(ToolChange(name, "removed", (removed,)))
        else:
            changes = _tool_changes(old[name], new[name])
            if changes:
                found.append(ToolChange(name, "changed", tuple(changes)))
    return AgentChanges(previous=True, count=len(new), tools=tuple(found))


def render_text(changes: AgentChanges) -> list[str]:
    """Lines for people: what the agents using this server will notice."""
    tools = f"{changes.count} tool{'' if changes.count == 1 else 's'}"
    if not changes.previous:
        return [f"agents will see {tools} (no earlier generation to compare)"]
    if not changes.tools:
        return [f"agents will notice no change ({tools})"]
    breaking = len(changes.breaking)
    counts = {kind: sum(c.kind == kind for c in changes.tools) for kind in _KINDS}
    head = ", ".join(f"{counts[kind]} {kind}" for kind in _KINDS if counts[kind])
    lines = [f"agents will notice: {head} ({breaking} breaking)"]
    width = max(len(change.tool) for change in changes.tools)
    for change in changes.tools:
        for number, item in enumerate(change.changes):
            sign = _SIGNS[change.kind] if number == 0 else " "
            name = change.tool if number == 0 else ""
            flag = "BREAKING: " if item.breaking else ""
            lines.append(f"  {sign} {name:<{width}}  {flag}{item.reason}")
    return lines


_KINDS: tuple[Literal["added", "removed", "changed"], ...] = ("added", "removed", "changed")
_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def _summary(tool: Tool) -> ToolSummary:
    schema = tool.input_schema
    properties = schema.get("properties") or {}
    arguments = {str(arg): _type(sub, schema) for arg, sub in properties.items()}
    required = tuple(sorted(str(arg) for arg in schema.get("required") or ()))
    return ToolSummary(
        arguments=arguments,
        required=required,
        output=_output(tool),
        operation=f"{tool.method} {tool.path}",
        hints=_hints(tool),
        kind=tool.kind,
    )


def _output(tool: Tool) -> str:
    schema = tool.output_schema
    if schema is None:
        return _NO_OUTPUT
    if tool.output_wrapped:
        result = (schema.get("properties") or {}).get("result")
        if result is not None:
            return _type(result, schema)
    return _type(schema, schema)


def _hints(tool: Tool) -> str:
    """The annotation hints that are set, e.g. `idempotent, open_world, read_only`."""
    flags = tool.annotations.model_dump()
    return ", ".join(sorted(name for name, on in flags.items() if on is True))


def _type(schema: Any, root: JsonSchema, depth: int = 0) -> str:
    """A JSON Schema's accepted JSON types, as a short stable string."""
    if accepts_nothing(schema):
        return _NEVER
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return "any"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _type(_resolve(ref, root), root, depth + 1)
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list):
            return _union(_type(member, root, depth + 1) for member in members)
    members = schema.get("allOf")
    if isinstance(members, list):
        known = [t for t in (_type(m, root, depth + 1) for m in members) if t != "any"]
        return known[0] if known else "any"
    names = _type_names(schema)
    if not names:
        return "any"
    items = schema.get("items")
    parts = [
        f"array<{_type(items, root, depth + 1)}>" if name == "array" and items is not None else name
        for name in names
    ]
    return _union(parts)


def _type_names(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(name) for name in declared]
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if isinstance(values, list) and values:
        return sorted({_json_type(value) for value in values})
    if "properties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return []


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _resolve(ref: str, root: JsonSchema) -> Any:
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for raw in ref[2:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return None
        node = node[token]
    return node


_EVERY_TYPE = frozenset({"array", "boolean", "null", "number", "object", "string"})


def _union(types: Iterable[str]) -> str:
    parts = {part for union in types for part in _split(union)}
    if "any" in parts or {p.split("<", 1)[0] for p in parts} >= _EVERY_TYPE:
        return "any"  # a union of every JSON type (how portable schemas say "any value")
    if len(parts) > 1:
        parts.discard(_NEVER)
    return "|".join(sorted(parts))


def _split(union: str) -> list[str]:
    """The members of a union summary, splitting only at the top level (not inside <>)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(union):
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(union[start:index])
            start = index + 1
    parts.append(union[start:])
    return parts


def _accepts(wide: str, narrow: str) -> bool:
    """True when every value of type `narrow` is also of type `wide`."""
    if wide == "any" or narrow == _NEVER:
        return True
    accepted = set(_split(wide))
    if "number" in accepted:
        accepted.add("integer")
    return set(_split(narrow)) <= accepted


def _noun(kind: str) -> str:
    return kind.replace("_", " ")


def _tool_changes(old: ToolSummary, new: ToolSummary) -> list[Change]:
    changes: list[Change] = []
    if old.kind != new.kind:
        what = f"now a {_noun(new.kind)} (was a {_noun(old.kind)})"
        changes.append(Change(what, breaking=True))
    changes += _argument_changes(old, new)
    changes += _output_changes(old.output, new.output)
    if old.operation != new.operation:
        changes.append(Change(f"now calls {new.operation} (was {old.operation})", breaking=False))
    if old.hints != new.hints:
        changes.append(Change(f"annotations now {new.hints} (were {old.hints})", breaking=False))
    return changes


def _argument_changes(old: ToolSummary, new: ToolSummary) -> list[Change]:
    changes: list[Change] = []
    for arg in sorted(set(old.arguments) | set(new.arguments)):
        was_required, is_required = arg in old.required, arg in new.required
        if arg not in new.arguments:
            changes.append(Change(f"argument `{arg}` removed", breaking=True))
        elif arg not in old.arguments:
            kind = "required" if is_required else "optional"
            changes.append(Change(f"new {kind} argument `{arg}`", breaking=is_required))
        else:
            if is_required and not was_required:
                changes.append(Change(f"argument `{arg}` is now required", breaking=True))
            elif was_required and not is_required:
                changes.append(Change(f"argument `{arg}` is now optional", breaking=False))
            before, after = old.arguments[arg], new.arguments[arg]
            if before != after:
                breaking = not _accepts(after, before)
                what = "type changed" if breaking else "accepts more"
                changes.append(Change(f"argument `{arg}` {what}: {before} → {after}", breaking))
    return changes


def _output_changes(before: str, after: str) -> list[Change]:
    if before == after:
        return []
    if before == _NO_OUTPUT:
        return [Change(f"now returns structured output ({after})", breaking=False)]
    if after == _NO_OUTPUT:
        return [Change(f"no longer returns structured output (was {before})", breaking=True)]
    breaking = not _accepts(before, after)
    what = "output type changed" if breaking else "output narrowed"
    return [Change(f"{what}: {before} → {after}", breaking)]
