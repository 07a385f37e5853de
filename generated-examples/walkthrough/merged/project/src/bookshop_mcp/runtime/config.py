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
    tools_page_size: int = 0  # MCP_TOOLS_PAGE_SIZE: tools per tools/list page; 0: one page

    @classmethod
    def from_env(cls, project: ProjectInfo, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (`os.environ` by default); a bad value stops the server with
        a message naming the variable."""
        env = os.environ if env is None else env
        retries = env.get("UPSTREAM_RETRIES", "2")
        if not retries.isdigit():
            raise SystemExit(f"UPSTREAM_RETRIES must be a whole number, not {retries!r}")
        page_size = env.get("MCP_TOOLS_PAGE_SIZE", "0").strip() or "0"
        if not page_size.isdigit():
            raise SystemExit(f"MCP_TOOLS_PAGE_SIZE must be a whole number, not {page_size!r}")
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
            tools_page_size=int(page_size),
        )
