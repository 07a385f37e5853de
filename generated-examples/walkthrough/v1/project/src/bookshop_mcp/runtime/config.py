"""Settings from the environment; command-line flags override them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .definitions import ProjectInfo

__all__ = ["LOOPBACK_HOSTS", "LOOPBACK_ORIGINS", "Operations", "Settings", "public_hosts"]

LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


def _list(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None or not value.strip():
        return default
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value > 0:
        raise SystemExit(f"{name} must be positive, not {raw!r}")
    return value


def _public_url(env: Mapping[str, str]) -> str:
    """MCP_PUBLIC_URL: the server's canonical URL, `https://host/mcp` (no query, no fragment)."""
    raw = (env.get("MCP_PUBLIC_URL") or "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SystemExit(
            f"MCP_PUBLIC_URL must be the server's URL, such as https://mcp.example.com/mcp, "
            f"not {raw!r}"
        )
    return raw.rstrip("/")


def public_hosts(public_url: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The `Host` and `Origin` values a server at `public_url` is reached with."""
    parts = urlsplit(public_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    origin = f"{parts.scheme}://{host}"
    return (host, *LOOPBACK_HOSTS), (origin, *LOOPBACK_ORIGINS)


def _port(env: Mapping[str, str]) -> int:
    port = env.get("MCP_PORT") or env.get("PORT") or "8080"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"MCP_PORT/PORT must be a TCP port number, not {port!r}")
    return int(port)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name} must be true or false, not {env.get(name)!r}")


@dataclass(frozen=True)
class Operations:
    """How the server is watched and stopped: logs, metrics, proxies, shutdown."""

    log_arguments: bool = False  # MCP_LOG_ARGUMENTS: tool argument values in the request log
    metrics: bool = True  # MCP_METRICS=false: no /metrics at all
    metrics_token: str = ""  # MCP_METRICS_TOKEN: /metrics wants `Authorization: Bearer <it>`
    metrics_port: int | None = None  # MCP_METRICS_PORT: /metrics on a listener of its own
    metrics_host: str = ""  # MCP_METRICS_HOST: that listener's address ("": MCP_HOST)
    trusted_proxies: tuple[str, ...] = ()  # MCP_TRUSTED_PROXIES: whose X-Forwarded-* to believe
    shutdown_timeout: float = 20.0  # MCP_SHUTDOWN_TIMEOUT: seconds to drain after SIGTERM

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Operations:
        metrics_port = (env.get("MCP_METRICS_PORT") or "").strip()
        if metrics_port and not (metrics_port.isdigit() and 0 < int(metrics_port) < 65536):
            raise SystemExit(f"MCP_METRICS_PORT must be a TCP port number, not {metrics_port!r}")
        return cls(
            log_arguments=_flag(env, "MCP_LOG_ARGUMENTS", False),
            metrics=_flag(env, "MCP_METRICS", True),
            metrics_token=(env.get("MCP_METRICS_TOKEN") or "").strip(),
            metrics_port=int(metrics_port) if metrics_port else None,
            metrics_host=(env.get("MCP_METRICS_HOST") or "").strip(),
            trusted_proxies=_list(env.get("MCP_TRUSTED_PROXIES"), ()),
            shutdown_timeout=_seconds(env, "MCP_SHUTDOWN_TIMEOUT", 20.0),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment."""

    base_url: str = ""
    timeout: float = 30.0
    retries: int = 2
    host: str = "127.0.0.1"
    port: int = 8080
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    allowed_origins: tuple[str, ...] = LOOPBACK_ORIGINS
    credentials: Mapping[str, str] = field(default_factory=dict)
    public_url: str = ""  # MCP_PUBLIC_URL, e.g. https://mcp.example.com/mcp; "" when unset
    ops: Operations = field(default_factory=Operations)  # logs, metrics, shutdown

    @classmethod
    def from_env(cls, project: ProjectInfo, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (`os.environ` by default); a bad value stops the server with
        a message naming the variable."""
        env = os.environ if env is None else env
        retries = env.get("UPSTREAM_RETRIES", "2")
        if not retries.isdigit():
            raise SystemExit(f"UPSTREAM_RETRIES must be a whole number, not {retries!r}")
        public_url = _public_url(env)
        hosts, origins = (
            public_hosts(public_url) if public_url else (LOOPBACK_HOSTS, LOOPBACK_ORIGINS)
        )
        return cls(
            base_url=(env.get("UPSTREAM_BASE_URL") or project.default_base_url).rstrip("/"),
            timeout=_seconds(env, "UPSTREAM_TIMEOUT", 30.0),
            retries=int(retries),
            host=env.get("MCP_HOST") or "127.0.0.1",
            port=_port(env),
            allowed_hosts=_list(env.get("MCP_ALLOWED_HOSTS"), hosts),
            allowed_origins=_list(env.get("MCP_ALLOWED_ORIGINS"), origins),
            credentials={v: env[v] for v in project.credential_variables if env.get(v)},
            public_url=public_url,
            ops=Operations.from_env(env),
        )
