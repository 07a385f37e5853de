"""Settings from the environment; command-line flags override them."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from .definitions import ProjectInfo

__all__ = [
    "DEFAULT_ALGORITHMS",
    "LOOPBACK_HOSTS",
    "LOOPBACK_ORIGINS",
    "AuthConfig",
    "AuthMode",
    "Operations",
    "Settings",
    "env_flag",
    "is_loopback",
    "public_hosts",
]

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


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """A true/false variable, false when unset; anything else stops the server naming it."""
    return _flag(env, name, False)


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the server reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


AuthMode = Literal["none", "bearer", "oauth", "oauth-proxy"]
# Asymmetric signatures only: never `none`, never an HMAC (whose key would be the public key).
DEFAULT_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip


def _url(env: Mapping[str, str], name: str) -> str:
    raw = (env.get(name) or "").strip()
    if raw and (urlsplit(raw).scheme not in ("http", "https") or not urlsplit(raw).hostname):
        raise SystemExit(f"{name} must be an http(s) URL, not {raw!r}")
    return raw


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise SystemExit(f"{name} must be a whole number of seconds, not {raw!r}")
    return int(raw)


def _registration_limit(env: Mapping[str, str]) -> int:
    raw = (env.get("MCP_AUTH_REGISTRATION_LIMIT") or "").strip()
    if not raw:
        return 20
    if not raw.isdigit() or int(raw) > 100_000:
        raise SystemExit(
            "MCP_AUTH_REGISTRATION_LIMIT must be a whole number of registrations per client "
            f"address per hour (0 for no limit), not {raw!r}"
        )
    return int(raw)


def _leeway(env: Mapping[str, str]) -> float:
    raw = (env.get("MCP_AUTH_LEEWAY") or "").strip()
    if not raw:
        return 30.0
    if not raw.isdigit() or int(raw) > 600:
        raise SystemExit(
            f"MCP_AUTH_LEEWAY must be a whole number of seconds up to 600, not {raw!r}"
        )
    return float(raw)


def _bearer_tokens(env: Mapping[str, str]) -> tuple[str, ...]:
    tokens = [t.strip() for t in (env.get("MCP_BEARER_TOKENS") or "").split(",") if t.strip()]
    path = (env.get("MCP_BEARER_TOKENS_FILE") or "").strip()
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SystemExit(
                f"MCP_BEARER_TOKENS_FILE: cannot read {path} ({exc.strerror})"
            ) from None
        tokens += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not tokens:
        raise SystemExit(
            "MCP_AUTH_MODE=bearer needs tokens: set MCP_BEARER_TOKENS (comma separated) "
            "or MCP_BEARER_TOKENS_FILE (one per line)"
        )
    short = [t for t in tokens if len(t) < 16]
    if short:
        raise SystemExit("MCP_BEARER_TOKENS: each token must be at least 16 characters long")
    return tuple(tokens)


@dataclass(frozen=True)
class AuthConfig:
    """Who may call the server (`MCP_AUTH_MODE` and the variables of each mode).

    Secrets are kept out of `repr`, so printing settings never shows them.
    """

    mode: AuthMode = "none"
    allow_unauthenticated: bool = False  # MCP_ALLOW_UNAUTHENTICATED: mode none off loopback
    bearer_tokens: tuple[str, ...] = field(default=(), repr=False)
    issuer: str = ""  # MCP_AUTH_ISSUER
    jwks_url: str = ""  # MCP_AUTH_JWKS_URL ("" = discovered from the issuer)
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS  # MCP_AUTH_ALGORITHMS
    leeway: float = 30.0  # MCP_AUTH_LEEWAY: clock skew allowed on exp/nbf/iat, seconds
    introspection_url: str = ""  # MCP_AUTH_INTROSPECTION_URL ("" = from the AS metadata)
    client_id: str = ""  # MCP_AUTH_CLIENT_ID: this server's client, for introspection
    client_secret: str = field(default="", repr=False)  # MCP_AUTH_CLIENT_SECRET
    state_url: str = "sqlite:///mcp-state.sqlite3"  # MCP_STATE_URL
    state_key: str = field(default="", repr=False)  # MCP_STATE_KEY
    token_ttl: int = 900  # MCP_AUTH_TOKEN_TTL: lifetime of issued access tokens (oauth-proxy)
    refresh_ttl: int = 30 * 86400  # MCP_AUTH_REFRESH_TTL: lifetime of issued refresh tokens
    clients_file: str = ""  # MCP_AUTH_CLIENTS_FILE: static clients (oauth-proxy)
    # MCP_AUTH_REGISTRATION_LIMIT: dynamic registrations per client address per hour (0: no
    # limit), a token bucket holding that many
    registration_limit: int = 20
    # Test-only: accept Client ID Metadata Documents served from loopback addresses.
    allow_loopback_client_metadata: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], public_url: str) -> AuthConfig:
        mode = (env.get("MCP_AUTH_MODE") or "none").strip().lower()
        if mode not in get_args(AuthMode):
            raise SystemExit(
                f"MCP_AUTH_MODE must be one of none, bearer, oauth, oauth-proxy, not {mode!r}"
            )
        algorithms = (
            tuple(a.strip() for a in (env.get("MCP_AUTH_ALGORITHMS") or "").split(",") if a.strip())
            or DEFAULT_ALGORITHMS
        )
        unsafe = [a for a in algorithms if a not in DEFAULT_ALGORITHMS]
        if unsafe:
            raise SystemExit(
                f"MCP_AUTH_ALGORITHMS: {', '.join(unsafe)} not allowed; choose among "
                + ", ".join(DEFAULT_ALGORITHMS)
            )
        config = cls(
            mode=mode,  # type: ignore[arg-type]  # checked against AuthMode above
            allow_unauthenticated=env_flag(env, "MCP_ALLOW_UNAUTHENTICATED"),
            bearer_tokens=_bearer_tokens(env) if mode == "bearer" else (),
            issuer=_url(env, "MCP_AUTH_ISSUER"),
            jwks_url=_url(env, "MCP_AUTH_JWKS_URL"),
            algorithms=algorithms,
            leeway=_leeway(env),
            introspection_url=_url(env, "MCP_AUTH_INTROSPECTION_URL"),
            client_id=(env.get("MCP_AUTH_CLIENT_ID") or "").strip(),
            client_secret=(env.get("MCP_AUTH_CLIENT_SECRET") or "").strip(),
            state_url=(env.get("MCP_STATE_URL") or "").strip() or "sqlite:///mcp-state.sqlite3",
            state_key=(env.get("MCP_STATE_KEY") or "").strip(),
            token_ttl=_whole(env, "MCP_AUTH_TOKEN_TTL", 900),
            refresh_ttl=_whole(env, "MCP_AUTH_REFRESH_TTL", 30 * 86400),
            clients_file=(env.get("MCP_AUTH_CLIENTS_FILE") or "").strip(),
            registration_limit=_registration_limit(env),
            allow_loopback_client_metadata=env_flag(env, "MCP_TEST_ALLOW_LOOPBACK_CLIENT_METADATA"),
        )
        if mode in ("oauth", "oauth-proxy") and not public_url:
            raise SystemExit(
                f"MCP_AUTH_MODE={mode} needs MCP_PUBLIC_URL, the server's URL as clients reach "
                "it (such as https://mcp.example.com/mcp): tokens are issued for that audience"
            )
        if mode == "oauth" and not config.issuer:
            raise SystemExit(
                "MCP_AUTH_MODE=oauth needs MCP_AUTH_ISSUER, the issuer URL of the authorization "
                "server whose tokens this server accepts"
            )
        if mode == "oauth-proxy":
            if urlsplit(public_url).path != "/mcp":
                raise SystemExit(
                    "MCP_AUTH_MODE=oauth-proxy serves its authorization endpoints at the root of "
                    "the host: MCP_PUBLIC_URL must end in /mcp right after the host, "
                    f"not {public_url!r}"
                )
            from .state import state_keys

            state_keys(config.state_key)  # stops with a message when missing or short
        return config


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
    auth: AuthConfig = field(default_factory=AuthConfig)
    ops: Operations = field(default_factory=Operations)  # logs, metrics, shutdown
    tools_page_size: int = 0  # MCP_TOOLS_PAGE_SIZE: tools per tools/list page; 0: one page
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
        page_size = env.get("MCP_TOOLS_PAGE_SIZE", "0").strip() or "0"
        if not page_size.isdigit():
            raise SystemExit(f"MCP_TOOLS_PAGE_SIZE must be a whole number, not {page_size!r}")
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
            auth=AuthConfig.from_env(env, public_url),
            ops=Operations.from_env(env),
            tools_page_size=int(page_size),
            max_reply_bytes=_count(env, "UPSTREAM_MAX_BYTES", cls.max_reply_bytes),
            max_concurrency=_count(env, "UPSTREAM_MAX_CONCURRENCY", cls.max_concurrency),
            max_result_bytes=_count(env, "MCP_MAX_RESULT_BYTES", cls.max_result_bytes),
            max_request_bytes=_count(env, "MCP_MAX_REQUEST_BYTES", cls.max_request_bytes),
        )
