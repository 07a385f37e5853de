"""A bounded soak of a generated server: many concurrent clients for a few minutes.

    .venv/bin/python bench/soak.py                    # 64 clients, 3 minutes
    .venv/bin/python bench/soak.py --clients 64 --minutes 5 --json
    .venv/bin/python bench/bench.py --soak 3          # the same, as a section of the bench

A server is generated (with the real `mcpgen` command) from the small spec below and started
as a deployment starts it (`python -m soak_mcp --transport http`, uvicorn). Its upstream runs
in a process of its own and answers:

- `/fast`: at once;
- `/slow`: after 0.5 s;
- `/faulty`: in turn a 500, a 429 with `Retry-After: 0`, a reply that is not JSON, a
  connection reset halfway through the body, and a good reply.

Each client loops, each round picking (with fixed weights, from a seeded generator) a
tools/list, a fast call, a slow call or a faulty call, over raw JSON-RPC through httpx, and
times it. A *protocol error* is anything but an HTTP 200 carrying a JSON-RPC result: a 5xx, a
JSON-RPC error, a transport failure or a timeout. Tool errors (the faulty upstream's) are
results, as the protocol says, and counted apart.

The server's resident memory (VmRSS) is sampled every 2 s. After a 30 s warm-up, RSS must
stay flat: the median of the last fifth of the samples may exceed the median of the first
fifth by at most `--rss-bound` MiB (25 by default). The exit status is 0 when there were no
protocol errors and RSS stayed within the bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PROTOCOL = "2025-11-25"
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": PROTOCOL,
}
WARM_UP = 30.0
SAMPLE_EVERY = 2.0
CALL_TIMEOUT = 60.0
WEIGHTS = {"tools/list": 2, "fast": 5, "slow": 2, "faulty": 2}
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Soak", "version": "1.0.0"},
    "servers": [{"url": "http://127.0.0.1:9"}],
    "paths": {
        path: {
            "get": {
                "operationId": f"get_{path.strip('/')}",
                "parameters": [{"name": "n", "in": "query", "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"n": {"type": "integer"}},
                                }
                            }
                        },
                    }
                },
            }
        }
        for path in ("/fast", "/slow", "/faulty")
    },
}


# --- the upstream (its own process) ------------------------------------------------------------


def serve_upstream(port: int) -> None:
    """`python bench/soak.py upstream --port P`: the soak's upstream, until stopped."""
    faults = iter(range(1 << 62))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                target = head.split(" ", 2)[1]
                path, _, query = target.partition("?")
                n = int(query.partition("n=")[2].split("&")[0] or 0)
                if path == "/slow":
                    await asyncio.sleep(0.5)
                if path == "/faulty":
                    kind = next(faults) % 5
                    if kind == 3:  # reset halfway through the body
                        writer.write(_reply(200, b'{"n": 1, "partial": "', declared=400))
                        await writer.drain()
                        writer.transport.abort()
                        return
                    writer.write(_fault(kind, n))
                else:
                    writer.write(_reply(200, json.dumps({"n": n}).encode()))
                await writer.drain()

    async def main() -> None:
        server = await asyncio.start_server(handle, HOST, port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _fault(kind: int, n: int) -> bytes:
    if kind == 0:
        return _reply(500, b'{"message": "upstream failure"}')
    if kind == 1:
        return _reply(429, b'{"message": "slow down"}', extra="Retry-After: 0\r\n")
    if kind == 2:
        return _reply(200, b"<html>not json</html>", media="text/html")
    return _reply(200, json.dumps({"n": n}).encode())


def _reply(
    status: int,
    body: bytes,
    *,
    declared: int | None = None,
    media: str = "application/json",
    extra: str = "",
) -> bytes:
    length = len(body) if declared is None else declared
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {media}\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
    return head.encode() + body


# --- processes ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _process(
    argv: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.1)


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listened on {HOST}:{port} within {timeout:g} s")
        time.sleep(0.05)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/PID/status")


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Figures:
    clients: int
    seconds: float
    requests: int = 0
    protocol_errors: Counter[str] = field(default_factory=Counter)
    tool_errors: int = 0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    rss_mib: list[float] = field(default_factory=list)
    rss_first_mib: float = 0.0
    rss_last_mib: float = 0.0
    rss_bound_mib: float = 25.0

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_last_mib - self.rss_first_mib

    @property
    def passed(self) -> bool:
        return not self.protocol_errors and self.rss_growth_mib <= self.rss_bound_mib

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(rss_growth_mib=round(self.rss_growth_mib, 1), passed=self.passed)
        return data

    def table(self) -> str:
        lines = [
            f"soak: {self.clients} clients for {self.seconds:.0f} s: {self.requests:,} requests "
            f"({self.requests / self.seconds:.0f}/s), {sum(self.protocol_errors.values())} "
            f"protocol errors, {self.tool_errors:,} tool errors (the faulty upstream's)",
        ]
        for kind, error_count in sorted(self.protocol_errors.items()):
            lines.append(f"  protocol error: {kind}: {error_count}")
        lines.append("  latency (ms)      count      p50      p99      max")
        for kind, figures in self.latency_ms.items():
            lines.append(
                f"  {kind:<14} {figures['count']:>8.0f} {figures['p50']:>8.1f} "
                f"{figures['p99']:>8.1f} {figures['max']:>8.1f}"
            )
        lines.append(
            f"  RSS: {self.rss_first_mib:.1f} MiB after the warm-up, {self.rss_last_mib:.1f} MiB "
            f"at the end ({self.rss_growth_mib:+.1f} MiB; bound {self.rss_bound_mib:g} MiB; "
            f"max {max(self.rss_mib, default=0):.1f} MiB)"
        )
        return "\n".join(lines)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def _load(url: str, pid: int, clients: int, seconds: float, figures: Figures) -> None:
    latencies: dict[str, list[float]] = {kind: [] for kind in WEIGHTS}
    kinds = list(WEIGHTS)
    weights = list(WEIGHTS.values())
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(index: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(index)
        number = 0
        while time.monotonic() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            number += 1
            if kind == "tools/list":
                message = {"jsonrpc": "2.0", "id": number, "method": "tools/list"}
            else:
                params = {"name": f"get_{kind}", "arguments": {"n": number}}
                message = {"jsonrpc": "2.0", "id": number, "method": "tools/call", "params": params}
            started = time.monotonic()
            error = await _one(http, url, message)
            latencies[kind].append((time.monotonic() - started) * 1000)
            figures.requests += 1
            if error == "tool error":
                figures.tool_errors += 1
            elif error:
                figures.protocol_errors[error] += 1

    async def sampler() -> None:
        while time.monotonic() < stop_at:
            figures.rss_mib.append(round(_rss_mib(pid), 1))
            await asyncio.sleep(SAMPLE_EVERY)

    async with httpx.AsyncClient(limits=limits, timeout=CALL_TIMEOUT, trust_env=False) as http:
        await asyncio.gather(sampler(), *(client(i, http) for i in range(clients)))
    for kind, values in latencies.items():
        if values:
            figures.latency_ms[kind] = {
                "count": len(values),
                "p50": round(_percentile(values, 0.5), 1),
                "p99": round(_percentile(values, 0.99), 1),
                "max": round(max(values), 1),
            }
    overall = [v for values in latencies.values() for v in values]
    if overall:
        figures.latency_ms["all"] = {
            "count": len(overall),
            "p50": round(_percentile(overall, 0.5), 1),
            "p99": round(_percentile(overall, 0.99), 1),
            "max": round(max(overall), 1),
        }


async def _one(http: httpx.AsyncClient, url: str, message: dict[str, Any]) -> str:
    """'' for a result, 'tool error' for an isError result, else the protocol error."""
    try:
        reply = await http.post(url, json=message, headers=HEADERS)
    except httpx.HTTPError as exc:
        return f"transport: {type(exc).__name__}"
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}"
    try:
        body = reply.json()
    except ValueError:
        return "not JSON"
    if "error" in body:
        return f"JSON-RPC {body['error'].get('code')}"
    if "result" not in body or body.get("id") != message["id"]:
        return "no result"
    return "tool error" if body["result"].get("isError") else ""


def soak(clients: int = 64, minutes: float = 3.0, rss_bound: float = 25.0) -> Figures:
    """Generate, start, load and measure; every process is stopped at the end."""
    seconds = minutes * 60
    figures = Figures(clients=clients, seconds=seconds, rss_bound_mib=rss_bound)
    with tempfile.TemporaryDirectory(prefix="mcpgen-soak-") as scratch:
        work = Path(scratch)
        spec = work / "soak.json"
        spec.write_text(json.dumps(SPEC), encoding="utf-8")
        mcpgen = Path(sys.executable).with_name("mcpgen")
        subprocess.run(
            [str(mcpgen), "generate", str(spec), "-o", str(work / "project"), "--name", "soak"],
            check=True,
            capture_output=True,
            timeout=300,
        )
        upstream_port, server_port = _free_port(), _free_port()
        env = dict(os.environ)
        upstream_argv = [
            sys.executable,
            str(Path(__file__)),
            "upstream",
            "--port",
            str(upstream_port),
        ]
        with _process(upstream_argv, env, work / "upstream.log"):
            _wait_port(upstream_port)
            server_env = {
                **env,
                "PYTHONPATH": str(work / "project" / "src"),
                "UPSTREAM_BASE_URL": f"http://{HOST}:{upstream_port}",
                "UPSTREAM_RETRIES": "1",
                "MCP_PORT": str(server_port),
            }
            argv = [sys.executable, "-m", "soak_mcp", "--transport", "http"]
            with _process(argv, server_env, work / "server.log") as server:
                _wait_http(f"http://{HOST}:{server_port}/healthz", server)
                url = f"http://{HOST}:{server_port}/mcp"
                asyncio.run(_load(url, server.pid, clients, WARM_UP, Figures(clients, WARM_UP)))
                asyncio.run(_load(url, server.pid, clients, seconds, figures))
                alive = server.poll() is None
            if not alive:
                figures.protocol_errors["the server exited"] += 1
    samples = figures.rss_mib
    fifth = max(1, len(samples) // 5)
    figures.rss_first_mib = statistics.median(samples[:fifth]) if samples else 0.0
    figures.rss_last_mib = statistics.median(samples[-fifth:]) if samples else 0.0
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "upstream"])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rss-bound", type=float, default=25.0, help="MiB (default 25)")
    parser.add_argument("--port", type=int, help="(upstream) the port to listen on")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "upstream":
        serve_upstream(args.port)
        return 0
    figures = soak(args.clients, args.minutes, args.rss_bound)
    print(json.dumps(figures.to_json(), indent=2) if args.json else figures.table())
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
