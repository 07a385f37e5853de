"""Settings from the environment (mcpgen.runtime.config)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mcpgen.runtime.auth import check_listen_address
from mcpgen.runtime.config import LOOPBACK_HOSTS, Operations, Settings
from mcpgen.runtime.logs import configure_logging
from tests.runtime.conftest import make_project


def test_defaults_and_overrides() -> None:
    project = make_project(default_base_url="https://api.example.com/v1")
    assert Settings.from_env(project, {}) == Settings(base_url="https://api.example.com/v1")
    settings = Settings.from_env(
        project,
        {
            "UPSTREAM_BASE_URL": "http://127.0.0.1:9/x/",
            "UPSTREAM_TIMEOUT": "2.5",
            "UPSTREAM_RETRIES": "0",
            "PORT": "9000",
            "MCP_HOST": "0.0.0.0",
            "MCP_ALLOWED_HOSTS": "a.example, b.example",
            "DEMO_KEY": "k",
            "DEMO_TOKEN": "",
            "OTHER": "x",
        },
    )
    assert settings.base_url == "http://127.0.0.1:9/x"
    assert (settings.timeout, settings.retries, settings.port) == (2.5, 0, 9000)
    assert settings.host == "0.0.0.0"
    assert settings.allowed_hosts == ("a.example", "b.example")
    assert settings.credentials == {"DEMO_KEY": "k"}
    assert Settings().allowed_hosts == LOOPBACK_HOSTS


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MCP_PORT": "http"}, "MCP_PORT/PORT must be a TCP port number"),
        ({"PORT": "70000"}, "MCP_PORT/PORT must be a TCP port number"),
        ({"UPSTREAM_RETRIES": "-1"}, "UPSTREAM_RETRIES must be a whole number"),
        ({"UPSTREAM_TIMEOUT": "soon"}, "UPSTREAM_TIMEOUT must be a number of seconds"),
        ({"UPSTREAM_TIMEOUT": "0"}, "UPSTREAM_TIMEOUT must be positive"),
        ({"UPSTREAM_TIMEOUT": "nan"}, "UPSTREAM_TIMEOUT must be positive"),
        ({"MCP_METRICS_PORT": "metrics"}, "MCP_METRICS_PORT must be a TCP port number"),
        ({"MCP_METRICS": "maybe"}, "MCP_METRICS must be true or false"),
        ({"MCP_LOG_ARGUMENTS": "yes please"}, "MCP_LOG_ARGUMENTS must be true or false"),
        ({"MCP_SHUTDOWN_TIMEOUT": "-5"}, "MCP_SHUTDOWN_TIMEOUT must be positive"),
    ],
)
def test_bad_values_stop_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        Settings.from_env(make_project(), env)


def test_the_public_url_gives_the_allowed_hosts_and_origins() -> None:
    settings = Settings.from_env(make_project(), {"MCP_PUBLIC_URL": "https://mcp.example.com/mcp/"})
    assert settings.public_url == "https://mcp.example.com/mcp"
    assert settings.allowed_hosts[0] == "mcp.example.com"
    assert settings.allowed_origins[0] == "https://mcp.example.com"
    assert "127.0.0.1:*" in settings.allowed_hosts
    explicit = Settings.from_env(
        make_project(),
        {"MCP_PUBLIC_URL": "https://mcp.example.com:8443/mcp", "MCP_ALLOWED_HOSTS": "other"},
    )
    assert explicit.allowed_hosts == ("other",)
    assert explicit.allowed_origins[0] == "https://mcp.example.com:8443"


@pytest.mark.parametrize(
    "url", ["mcp.example.com", "ftp://x/mcp", "https://x/mcp?a=1", "https:///"]
)
def test_a_bad_public_url_stops_the_server(url: str) -> None:
    with pytest.raises(SystemExit, match="MCP_PUBLIC_URL must be the server's URL"):
        Settings.from_env(make_project(), {"MCP_PUBLIC_URL": url})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MCP_AUTH_MODE": "magic"}, "MCP_AUTH_MODE must be one of none, bearer, oauth"),
        ({"MCP_AUTH_MODE": "bearer"}, "MCP_AUTH_MODE=bearer needs tokens: set MCP_BEARER_TOKENS"),
        ({"MCP_AUTH_MODE": "bearer", "MCP_BEARER_TOKENS": "short"}, "at least 16 characters"),
        ({"MCP_AUTH_MODE": "oauth", "MCP_AUTH_ISSUER": "https://i"}, "needs MCP_PUBLIC_URL"),
        ({"MCP_AUTH_MODE": "oauth", "MCP_PUBLIC_URL": "https://h/mcp"}, "needs MCP_AUTH_ISSUER"),
        (
            {"MCP_AUTH_MODE": "oauth", "MCP_PUBLIC_URL": "https://h/mcp", "MCP_AUTH_ISSUER": "x"},
            "MCP_AUTH_ISSUER must be an http",
        ),
        ({"MCP_AUTH_ALGORITHMS": "RS256,HS256"}, "MCP_AUTH_ALGORITHMS: HS256 not allowed"),
        ({"MCP_AUTH_ALGORITHMS": "none"}, "MCP_AUTH_ALGORITHMS: none not allowed"),
        (
            {"MCP_AUTH_MODE": "oauth-proxy", "MCP_PUBLIC_URL": "https://h/mcp"},
            "MCP_STATE_KEY must be set",
        ),
        (
            {"MCP_AUTH_MODE": "oauth-proxy", "MCP_PUBLIC_URL": "https://h/api/mcp"},
            "MCP_PUBLIC_URL must end in /mcp right after the host",
        ),
        ({"MCP_ALLOW_UNAUTHENTICATED": "maybe"}, "MCP_ALLOW_UNAUTHENTICATED must be true or"),
        ({"MCP_BEARER_TOKENS_FILE": "/nonexistent", "MCP_AUTH_MODE": "bearer"}, "cannot read"),
    ],
)
def test_bad_auth_settings_stop_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        Settings.from_env(make_project(), env)


def test_no_auth_is_refused_off_loopback_unless_intended(tmp_path: Path) -> None:
    project = make_project()
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_listen_address(Settings.from_env(project, {"MCP_HOST": host}))
    with pytest.raises(SystemExit) as refused:
        check_listen_address(Settings.from_env(project, {"MCP_HOST": "0.0.0.0"}))
    assert "MCP_AUTH_MODE" in str(refused.value) and "MCP_ALLOW_UNAUTHENTICATED" in str(
        refused.value
    )
    check_listen_address(
        Settings.from_env(project, {"MCP_HOST": "0.0.0.0", "MCP_ALLOW_UNAUTHENTICATED": "true"})
    )
    tokens = tmp_path / "tokens"
    tokens.write_text("# one per line\nfile-token-0123456789\n")
    settings = Settings.from_env(
        project,
        {
            "MCP_HOST": "0.0.0.0",
            "MCP_AUTH_MODE": "bearer",
            "MCP_BEARER_TOKENS": "env-token-0123456789",
            "MCP_BEARER_TOKENS_FILE": str(tokens),
        },
    )
    check_listen_address(settings)
    assert settings.auth.bearer_tokens == ("env-token-0123456789", "file-token-0123456789")
    assert "0123456789" not in repr(settings)  # secrets stay out of reprs and logs


def test_operations_settings() -> None:
    ops = Settings.from_env(
        make_project(),
        {
            "MCP_LOG_ARGUMENTS": "true",
            "MCP_METRICS_PORT": "9091",
            "MCP_METRICS_TOKEN": " t0k3n ",
            "MCP_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
            "MCP_SHUTDOWN_TIMEOUT": "25",
            "MCP_METRICS": "off",
        },
    ).ops
    assert ops == Operations(
        log_arguments=True,
        metrics=False,
        metrics_token="t0k3n",
        metrics_port=9091,
        trusted_proxies=("127.0.0.1", "10.0.0.0/8"),
        shutdown_timeout=25.0,
    )
    assert Settings.from_env(make_project(), {}).ops == Operations()


@pytest.mark.parametrize(("level", "ok"), [("debug", True), ("WARNING", True), ("loud", False)])
def test_the_log_level_is_checked(level: str, ok: bool) -> None:
    root = logging.getLogger()
    handlers, old_level = list(root.handlers), root.level
    try:
        if ok:
            configure_logging({"MCP_LOG_LEVEL": level})
            assert root.level == logging.getLevelName(level.upper())
        else:
            with pytest.raises(SystemExit, match="MCP_LOG_LEVEL must be"):
                configure_logging({"MCP_LOG_LEVEL": level})
    finally:
        root.handlers[:] = handlers
        root.setLevel(old_level)
