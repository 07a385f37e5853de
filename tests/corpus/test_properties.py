"""Property-based tests over the tools of servers generated from real specs.

For each server of the fixed tool sample (tests/corpus/conftest.py), running in its own
process against a recording upstream, and a deterministic selection of its tools:

- valid arguments (drawn by hypothesis-jsonschema from the tool's input schema, or, where it
  cannot draw, by this module's own strategy) produce exactly one request, with the
  operation's method and a path that matches its template;
- invalid arguments (an unknown argument, a wrong type, a missing required one) are refused
  before any upstream call, with the "Invalid arguments" message;
- never a 5xx from /mcp, never a JSON-RPC error for a tools/call, never a traceback in the
  server's log.

Values a caller may give but that cannot be sent as asked are refused by the runtime with a
clean error (tests/runtime covers each); the strategies leave them out: header and cookie
text is printable ASCII, path values are not empty, objects in form bodies are not empty,
file contents are base64. The share of tools hypothesis-jsonschema could draw for is printed.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis_jsonschema import from_schema
from hypothesis_jsonschema._canonicalise import HypothesisRefResolutionError as RefResolutionError
from jsonschema import Draft202012Validator

from mcpgen.runtime.encoding import encode_path
from scripts.corpus_calls import RecorderProcess, credentials_of, form_bodied, package_of
from scripts.schema_values import arguments
from tests.corpus.conftest import Generated
from tests.support import net, procs

TOOLS_PER_SPEC = 20
VALID_EXAMPLES = 8
INVALID_EXAMPLES = 6
PROTOCOL = "2025-11-25"
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": PROTOCOL,
}
SETTINGS = settings(
    max_examples=VALID_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
_MARK = "zzpathvaluezz"


@dataclass(frozen=True)
class Tool:
    name: str
    method: str
    path: re.Pattern[str]
    schema: dict[str, Any]  # as listed
    sendable: dict[str, Any]  # narrowed to what can be sent as asked (see the module doc)


@dataclass
class Server:
    url: str
    recorder: RecorderProcess
    process: procs.RunningProcess
    http: httpx.Client

    def call(self, name: str, args: Any) -> tuple[dict[str, Any], list[Any]]:
        before = self.recorder.count()
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": args},
        }
        reply = self.http.post(self.url, json=message, headers=HEADERS)
        assert reply.status_code < 500, f"{reply.status_code} from /mcp: {reply.text[:300]}"
        body = reply.json()
        assert "result" in body, f"a JSON-RPC error for tools/call {name}: {body}"
        return body["result"], self.recorder.since(before)


@contextmanager
def serve(generated: Generated) -> Iterator[Server]:
    """The generated server in its own process, against a recording upstream."""
    project = generated.project
    assert project is not None
    port = net.free_port()
    with RecorderProcess() as recorder:
        env = {
            **credentials_of(project),
            "PYTHONPATH": str(project / "src"),
            "UPSTREAM_BASE_URL": recorder.url,
            "UPSTREAM_RETRIES": "0",
            "MCP_PORT": str(port),
        }
        argv = [sys.executable, "-m", package_of(project), "--transport", "http"]
        health = f"http://127.0.0.1:{port}/healthz"
        with (
            procs.start_process(argv, env=env, ready_url=health, ready_timeout=120) as process,
            httpx.Client(timeout=60, trust_env=False) as http,
        ):
            yield Server(f"http://127.0.0.1:{port}/mcp", recorder, process, http)
            log = process.stderr()
            assert "Traceback" not in log, f"{generated.entry.id}: a traceback in the log\n{log}"


def tools_of(server: Server, generated: Generated) -> list[Tool]:
    """A deterministic selection of the server's tools (every one of a small API)."""
    project = generated.project
    assert project is not None
    listed = server.http.post(
        server.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=HEADERS
    ).json()["result"]["tools"]
    operations = json.loads((project / ".mcpgen" / "tools.json").read_text(encoding="utf-8"))
    document = json.loads(generated.entry.path.read_text(encoding="utf-8"))
    step = max(1, len(listed) // TOOLS_PER_SPEC)
    chosen = sorted(listed, key=lambda t: t["name"])[::step][:TOOLS_PER_SPEC]
    tools = []
    for tool in chosen:
        operation = operations["tools"][tool["name"]]["operation"]
        method, _, path = operation.partition(" ")
        places = _locations(document, method, path)
        form = form_bodied(document, operation)
        sendable = _sendable(tool["inputSchema"], places, form)
        tools.append(Tool(tool["name"], method, _path_pattern(path), tool["inputSchema"], sendable))
    return tools


def _locations(document: dict[str, Any], method: str, path: str) -> dict[str, str]:
    """Argument name → where it goes (path, query, header, cookie); body otherwise."""
    item = (document.get("paths") or {}).get(path) or {}
    found: dict[str, str] = {}
    for owner in (item, item.get(method.lower()) or {}):
        for raw in owner.get("parameters") or []:
            param = _resolve(document, raw)
            if isinstance(param, dict) and "name" in param and "in" in param:
                found[str(param["name"])] = str(param["in"])
                found[f"{param['name']}__{param['in']}"] = str(param["in"])
    return found


def _resolve(document: dict[str, Any], node: Any) -> Any:
    for _ in range(10):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        target: Any = document
        for token in node["$ref"].lstrip("#/").split("/"):
            key = token.replace("~1", "/").replace("~0", "~")
            target = target.get(key) if isinstance(target, dict) else None
        node = target
    return node


def _path_pattern(template: str) -> re.Pattern[str]:
    names = re.findall(r"\{([^{}/]+)\}", template)
    encoded = encode_path(template, dict.fromkeys(names, _MARK))
    return re.compile(re.escape(encoded).replace(_MARK, "[^/?#]+") + "$")


def _sendable(schema: dict[str, Any], places: dict[str, str], form: bool) -> dict[str, Any]:
    narrowed: dict[str, Any] = json.loads(json.dumps(schema))
    for name, sub in (narrowed.get("properties") or {}).items():
        place = places.get(name, "body")
        if place in ("header", "cookie"):
            _walk(sub, _printable)
        elif place == "path":
            _walk(sub, _not_empty)
        elif form:
            _walk(sub, _not_empty_object)
        _walk(sub, _base64)
    for sub in (narrowed.get("$defs") or {}).values():
        _walk(sub, _base64)
        if form:
            _walk(sub, _not_empty_object)
    return narrowed


def _walk(schema: Any, change: Any) -> None:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            change(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _printable(node: dict[str, Any]) -> None:
    if node.get("type") == "string" and "enum" not in node and "const" not in node:
        node["pattern"] = "^[!-~]([ -~]*[!-~])?$"


def _not_empty(node: dict[str, Any]) -> None:
    if node.get("type") == "string":
        node["minLength"] = max(1, int(node.get("minLength", 0)))


def _not_empty_object(node: dict[str, Any]) -> None:
    if node.get("type") == "object" or "properties" in node:
        node["minProperties"] = max(1, int(node.get("minProperties", 0)))
        if node.get("additionalProperties", True) is True:
            # Extra keys could hold anything, empty objects included.
            node["additionalProperties"] = {"type": ["string", "integer", "boolean"]}


def _base64(node: dict[str, Any]) -> None:
    if node.get("contentEncoding") == "base64":
        node["pattern"] = "^([A-Za-z0-9+/]{4})*$"


# --- strategies -------------------------------------------------------------------------------


def valid_arguments(tool: Tool) -> tuple[st.SearchStrategy[Any] | None, str]:
    """hypothesis-jsonschema's strategy when it can draw for the schema, else this module's
    own (the values scripts/schema_values.py builds: none, each and all of the optional
    arguments); every value is checked against the listed schema."""
    check = Draft202012Validator(tool.schema).is_valid
    try:
        strategy = from_schema(tool.sendable).filter(check)
        _draw_one(strategy)
        return strategy, "hypothesis-jsonschema"
    except (HypothesisException, RefResolutionError, ValueError, TypeError, RecursionError):
        pass  # hypothesis-jsonschema cannot draw for it (recursive $ref, an unknown keyword...)
    candidates = [a for a in _own_candidates(tool.sendable) if check(a)]
    if not candidates:
        return None, "none"
    return st.sampled_from(candidates), "own"


def _draw_one(strategy: st.SearchStrategy[Any]) -> None:
    """Raises when hypothesis-jsonschema cannot draw a value for the schema."""

    @settings(SETTINGS, max_examples=1)
    @given(strategy)
    def draw(_: Any) -> None:
        return None

    draw()


def _own_candidates(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = [arguments(schema, "minimal"), arguments(schema, "full")]
    required = set(schema.get("required") or [])
    for name in sorted(set(schema.get("properties") or {}) - required):
        alone = {**schema, "required": sorted(required | {name})}
        found.append(arguments(alone, "minimal"))
    unique = {json.dumps(a, sort_keys=True): a for a in found if a is not None}
    return [unique[key] for key in sorted(unique)]


_WRONG: tuple[Any, ...] = (None, True, 12345, "zz-wrong", [], {"zz": 1})


def invalid_arguments(tool: Tool, valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid arguments, then broken: an unknown argument, a wrong value, a required one
    missing. Only what the listed schema really refuses is kept."""
    check = Draft202012Validator(tool.schema).is_valid

    def broken(args: dict[str, Any], how: int, pick: int) -> dict[str, Any]:
        changed = dict(args)
        names = sorted(tool.schema.get("properties") or {})
        required = sorted(tool.schema.get("required") or [])
        if how == 1 and names:
            changed[names[pick % len(names)]] = _WRONG[pick % len(_WRONG)]
        elif how == 2 and required:
            changed.pop(required[pick % len(required)], None)
        else:
            changed["zz_not_an_argument"] = pick
        return changed

    mutated = st.builds(broken, valid, st.integers(0, 2), st.integers(0, 10_000))
    return mutated.filter(lambda args: not check(args))


# --- the properties ----------------------------------------------------------------------------


def check_valid(server: Server, tool: Tool, args: dict[str, Any]) -> None:
    result, seen = server.call(tool.name, args)
    text = " ".join(b.get("text", "") for b in result.get("content", []))
    assert len(seen) == 1, f"{tool.name}{json.dumps(args)[:300]} sent {len(seen)} requests: {text}"
    (request,) = seen
    assert request.method == tool.method, (tool.name, request.method)
    path = request.path.split("?", 1)[0]
    assert tool.path.match(path), f"{tool.name}: {path} does not match {tool.path.pattern}"
    assert "failed inside the server" not in text


def check_invalid(server: Server, tool: Tool, args: dict[str, Any]) -> None:
    result, seen = server.call(tool.name, args)
    text = " ".join(b.get("text", "") for b in result.get("content", []))
    assert result.get("isError") is True, f"{tool.name} accepted {json.dumps(args)[:300]}"
    assert text.startswith(f"Invalid arguments for {tool.name}"), text[:300]
    assert seen == [], f"{tool.name}: invalid arguments reached the upstream"


@pytest.mark.corpus
@pytest.mark.timeout(30 * 60)
def test_tool_properties(tool_projects: list[Generated]) -> None:
    sources: Counter[str] = Counter()
    for generated in tool_projects:
        if generated.project is None:
            continue
        started = time.monotonic()
        with serve(generated) as server:
            for tool in tools_of(server, generated):
                valid, source = valid_arguments(tool)
                sources[source] += 1
                if valid is None:
                    continue

                @SETTINGS
                @given(valid)
                def valid_property(args: dict[str, Any]) -> None:
                    check_valid(server, tool, args)  # noqa: B023 (run before the loop moves on)

                @settings(SETTINGS, max_examples=INVALID_EXAMPLES)
                @given(invalid_arguments(tool, valid))
                def invalid_property(args: dict[str, Any]) -> None:
                    check_invalid(server, tool, args)  # noqa: B023

                valid_property()
                invalid_property()
        print(f"{generated.entry.id}: {time.monotonic() - started:.1f} s")
    total = sum(sources.values())
    share = sources["hypothesis-jsonschema"] / total if total else 0.0
    print(
        f"{total} tools: hypothesis-jsonschema drew arguments for "
        f"{sources['hypothesis-jsonschema']} ({share:.0%}), the module's own strategy for "
        f"{sources['own']}, none for "
        f"{sources['none']}"
    )
    assert total >= 100 and sources["none"] <= total // 20


def test_the_own_strategy_covers_what_hypothesis_jsonschema_cannot() -> None:
    """A recursive $ref is beyond hypothesis-jsonschema: the module's own values are used."""
    children = {"type": "array", "items": {"$ref": "#/$defs/Node"}}
    node = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "children": children},
        "required": ["name"],
    }
    schema = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/Node"}, "tag": {"type": "string"}},
        "required": ["node"],
        "additionalProperties": False,
        "$defs": {"Node": node},
    }
    tool = Tool("t", "GET", re.compile("/t"), schema, schema)
    strategy, source = valid_arguments(tool)
    assert source == "own" and strategy is not None
    drawn: list[Any] = []

    @SETTINGS
    @given(strategy)
    def collect(args: dict[str, Any]) -> None:
        drawn.append(args)

    collect()
    check = Draft202012Validator(schema).is_valid
    assert drawn and all(check(args) for args in drawn)
    assert {json.dumps(a, sort_keys=True) for a in drawn} >= {
        '{"node": {"name": "sample"}}',
        '{"node": {"name": "sample"}, "tag": "sample"}',
    }
