"""Settings from the environment; command-line flags override them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .definitions import ProjectInfo

__all__ = ["LOOPBACK_HOSTS", "LOOPBACK_ORIGINS", "Settings", "public_hosts"]

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


def _base_url(env: Mapping[str, str], default: str) -> str:
    raw = (env.get("UPSTREAM_BASE_URL") or "").strip()
    if not raw:
        return default.rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(
            f"UPSTREAM_BASE_URL must be the API's http(s) URL, such as https://api.example.com/v1, "
            f"not {raw!r}"
        )
    return raw.rstrip("/")


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number (bytes, calls) from the environment."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _credentials(env: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The configured credentials; one holding a control character could never be sent as
    a header, so it stops the server (naming the variable, never the value)."""
    found = {v: env[v] for v in names if env.get(v)}
    for name, value in found.items():
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise SystemExit(f"{name} holds a control character (a line break?); fix its value")
    return found


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
    max_reply_bytes: int = 4 * 1024 * 1024  # UPSTREAM_MAX_BYTES: an upstream reply, read streamed
    max_concurrency: int = 32  # UPSTREAM_MAX_CONCURRENCY: upstream calls in flight at once
    max_result_bytes: int = 100_000  # MCP_MAX_RESULT_BYTES: the text of one tool result
    max_request_bytes: int = 1024 * 1024  # MCP_MAX_REQUEST_BYTES: one HTTP request to /mcp

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
            base_url=_base_url(env, project.default_base_url),
            timeout=_seconds(env, "UPSTREAM_TIMEOUT", 30.0),
            retries=int(retries),
            host=env.get("MCP_HOST") or "127.0.0.1",
            port=_port(env),
            allowed_hosts=_list(env.get("MCP_ALLOWED_HOSTS"), hosts),
            allowed_origins=_list(env.get("MCP_ALLOWED_ORIGINS"), origins),
            credentials=_credentials(env, project.credential_variables),
            public_url=public_url,
            max_reply_bytes=_count(env, "UPSTREAM_MAX_BYTES", cls.max_reply_bytes),
            max_concurrency=_count(env, "UPSTREAM_MAX_CONCURRENCY", cls.max_concurrency),
            max_result_bytes=_count(env, "MCP_MAX_RESULT_BYTES", cls.max_result_bytes),
            max_request_bytes=_count(env, "MCP_MAX_REQUEST_BYTES", cls.max_request_bytes),
        )
