"""Logs, metrics and traces of the runtime (mcpgen.runtime.observability, metrics, logs),
over real HTTP: the server and a recording upstream run on 127.0.0.1, the official client
calls the server, and a real OTLP receiver collects the spans."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import pytest
from mcp import MCPError
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
from mcp.server.auth.provider import AccessToken
from starlette.middleware.authentication import AuthenticationMiddleware

from mcpgen.runtime.config import AuthConfig, Operations, Settings
from mcpgen.runtime.logs import JsonFormatter
from mcpgen.runtime.metrics import serve_metrics_port
from mcpgen.runtime.observability import observe_server
from mcpgen.runtime.server import ApiServer, create_http_app
from mcpgen.runtime.upstream import Reply, Upstream
from tests.runtime.conftest import Recorder, make_project
from tests.runtime.test_server import ITEM, LIST
from tests.support import mcpclient, net
from tests.support.secrets import SecretScan

KEY = "key-3f9a1c77e2"  # upstream credentials: must never be logged
QUERY_KEY = "query-5e0c2b19d4"
ITEM_ID = "item-77aa41"  # an argument value: logged only when MCP_LOG_ARGUMENTS asks


async def get_secured(upstream: Upstream, *, item_id: str) -> Reply:
    return await upstream.request(
        "GET", "/items/{id}", path_params={"id": item_id}, security=(("key", "query"),)
    )


SECURED = dataclasses.replace(ITEM, name="get_secured", handler=get_secured)


def settings_for(upstream: str, host: str = "127.0.0.1", **ops: Any) -> Settings:
    """The server behind another auth layer when not on loopback (MCP_ALLOW_UNAUTHENTICATED),
    so that only the metrics policy decides."""
    return Settings(
        base_url=upstream + "/base",
        retries=0,
        host=host,
        credentials={"DEMO_KEY": KEY, "DEMO_Q": QUERY_KEY},
        ops=Operations(**ops),
        auth=AuthConfig(allow_unauthenticated=host != "127.0.0.1"),
    )


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    server = ApiServer(make_project(), settings, [ITEM, LIST, SECURED])
    with net.serve_in_thread(create_http_app(server)) as url:
        yield url


def events(caplog: pytest.LogCaptureFixture, kind: str) -> list[dict[str, Any]]:
    """The JSON log lines of `kind` ("request", "upstream"), as the formatter writes them."""
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records]
    return [line for line in lines if line.get("event") == kind]


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="mcp.server.events")
    return caplog


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_one_json_line_per_request_and_per_upstream_call_without_secrets(
    recorder: tuple[Recorder, str], logged: pytest.LogCaptureFixture, mode: str
) -> None:
    rec, upstream = recorder
    rec.queue(200, {"id": ITEM_ID})
    with serving(settings_for(upstream)) as url:
        result = mcpclient.call_tool_sync(
            f"{url}/mcp", "get_secured", {"itemId": ITEM_ID}, mode=mode
        )
    assert not result.is_error
    assert rec.seen[0].headers["x-key"] == KEY  # the credentials did go upstream
    assert rec.seen[0].query == f"k={QUERY_KEY}"
    (call,) = [line for line in events(logged, "request") if line.get("tool")]
    assert call["tool"] == "get_secured" and call["outcome"] == "ok"
    assert call["status"] == 200 and call["path"] == "/mcp" and call["upstream_calls"] == 1
    assert call["latency_ms"] > 0 and len(call["request_id"]) == 32
    (up,) = events(logged, "upstream")
    assert up["request_id"] == call["request_id"] and up["tool"] == "get_secured"
    assert (up["upstream_method"], up["upstream_path"]) == ("GET", "/items/{id}")
    assert (up["upstream_status"], up["outcome"]) == (200, "ok")
    scan = SecretScan()
    scan.add(KEY, QUERY_KEY, ITEM_ID)
    scan.check([r.getMessage() for r in logged.records], "log messages")
    scan.check([JsonFormatter().format(r) for r in logged.records], "JSON log lines")


def test_argument_values_are_logged_only_when_asked(
    recorder: tuple[Recorder, str], logged: pytest.LogCaptureFixture
) -> None:
    rec, upstream = recorder
    rec.queue(200, {"id": ITEM_ID})
    with serving(settings_for(upstream, log_arguments=True)) as url:
        mcpclient.call_tool_sync(f"{url}/mcp", "get_secured", {"itemId": ITEM_ID})
    (call,) = [line for line in events(logged, "request") if line.get("tool")]
    assert call["arguments"] == {"itemId": ITEM_ID}
    scan = SecretScan()
    scan.add(KEY, QUERY_KEY)
    scan.check([JsonFormatter().format(r) for r in logged.records], "JSON log lines")


def test_a_caller_request_id_is_kept_and_returned(recorder: tuple[Recorder, str]) -> None:
    _, upstream = recorder
    with serving(settings_for(upstream)) as url:
        given = httpx.get(f"{url}/healthz", headers={"X-Request-Id": "abc-123"})
        made = httpx.get(f"{url}/healthz", headers={"X-Request-Id": "no spaces allowed"})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32


def test_an_upstream_that_never_answers_is_logged_as_such(
    logged: pytest.LogCaptureFixture,
) -> None:
    port = net.free_port()  # nothing listens there
    with serving(settings_for(f"http://127.0.0.1:{port}")) as url:
        result = mcpclient.call_tool_sync(f"{url}/mcp", "get_item", {"itemId": "x"})
        metrics = httpx.get(f"{url}/metrics").text
    assert result.is_error
    (up,) = events(logged, "upstream")
    assert up["upstream_status"] is None and up["outcome"] == "error"
    (call,) = [line for line in events(logged, "request") if line.get("tool")]
    assert call["outcome"] == "tool_error"
    assert sample(metrics, "mcp_upstream_responses_total", tool="get_item", status_class="error")
    assert sample(metrics, "mcp_tool_errors_total", tool="get_item") == 1


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, value = line.rsplit(" ", 1)
        metric, _, rest = key.partition("{")
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if metric == name and found == wanted:
            return float(value)
    return 0.0


def test_metrics_count_tool_calls_errors_latency_and_upstream_statuses(
    recorder: tuple[Recorder, str],
) -> None:
    rec, upstream = recorder
    rec.queue(200, {"id": "a"})
    rec.queue(404, {"message": "no such item"})
    with serving(settings_for(upstream)) as url:

        async def calls() -> None:
            async with mcpclient.connect(f"{url}/mcp") as client:
                assert not (await client.call_tool("get_item", {"itemId": "a"})).is_error
                assert (await client.call_tool("get_item", {"itemId": "b"})).is_error
                with pytest.raises(MCPError, match="Unknown tool"):
                    await client.call_tool("no_such_tool", {})

        anyio.run(calls)
        reply = httpx.get(f"{url}/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = reply.text
    assert sample(text, "mcp_tool_calls_total", tool="get_item", outcome="ok") == 1
    assert sample(text, "mcp_tool_calls_total", tool="get_item", outcome="tool_error") == 1
    assert sample(text, "mcp_tool_errors_total", tool="get_item") == 1
    assert sample(text, "mcp_tool_call_duration_seconds_count", tool="get_item") == 2
    assert sample(text, "mcp_upstream_responses_total", tool="get_item", status_class="2xx") == 1
    assert sample(text, "mcp_upstream_responses_total", tool="get_item", status_class="4xx") == 1
    # a name the server does not have is counted, but never becomes a label value
    assert sample(text, "mcp_tool_calls_total", tool="(unknown)", outcome="error") == 1
    assert "no_such_tool" not in text
    assert sample(text, "mcp_http_requests_in_flight") == 1  # this very request
    assert sample(text, "mcp_http_requests_total", status_class="2xx") >= 3


def test_metrics_are_closed_off_loopback_unless_a_token_or_port_is_set(
    recorder: tuple[Recorder, str],
) -> None:
    _, upstream = recorder
    # Each server listens on 127.0.0.1; `host` is what the settings say it binds, which
    # decides the policy (a container binds 0.0.0.0).
    with serving(settings_for(upstream, host="0.0.0.0")) as url:
        closed = httpx.get(f"{url}/metrics")
    assert closed.status_code == 403 and "MCP_METRICS_TOKEN" in closed.text
    with serving(settings_for(upstream, host="0.0.0.0", metrics_token="t0ken-s3cret")) as url:
        missing = httpx.get(f"{url}/metrics")
        wrong = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer nope"})
        right = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer t0ken-s3cret"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "mcp_tool_calls" in right.text
    with serving(settings_for(upstream, metrics_port=net.free_port())) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404  # served on its own port
    with serving(settings_for(upstream, metrics=False)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404


class Verifier:
    """Accepts one token, for the subject `alice` of client `desk-app`."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token != TOKEN:
            return None
        return AccessToken(token=token, client_id="desk-app", scopes=[], subject="alice")


TOKEN = "mcp-token-71c0ffee"


def test_the_request_line_names_the_caller_when_auth_is_on(
    recorder: tuple[Recorder, str], logged: pytest.LogCaptureFixture
) -> None:
    """With the SDK's bearer authentication in front (as auth modes put it), the request
    line carries the token's subject and client, never the token."""
    rec, upstream = recorder
    rec.queue(200, {"id": ITEM_ID})
    server = ApiServer(make_project(), settings_for(upstream), [ITEM])
    app = create_http_app(server)
    app.add_middleware(AuthenticationMiddleware, backend=BearerAuthBackend(Verifier()))
    with net.serve_in_thread(app) as url:
        result = mcpclient.call_tool_sync(
            f"{url}/mcp",
            "get_item",
            {"itemId": ITEM_ID},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert not result.is_error
    (call,) = [line for line in events(logged, "request") if line.get("tool")]
    assert (call["subject"], call["client_id"]) == ("alice", "desk-app")
    scan = SecretScan()
    scan.add(TOKEN, KEY)
    scan.check([JsonFormatter().format(r) for r in logged.records], "JSON log lines")


def test_a_metrics_port_in_use_stops_the_server_with_a_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ApiServer(make_project(), settings_for("", metrics_port=port), [ITEM])
        observer = observe_server(server)
        with pytest.raises(
            SystemExit, match=f"MCP_METRICS_PORT: cannot listen on 127.0.0.1:{port}"
        ):
            serve_metrics_port(observer.metrics, server.app_settings)


def test_the_metrics_port_serves_the_metrics() -> None:
    port = net.free_port()
    server = ApiServer(make_project(), settings_for("", metrics_port=port), [ITEM])
    observer = observe_server(server)
    observer.metrics.tool_calls.labels("get_item", "ok").inc()
    listener = serve_metrics_port(observer.metrics, server.app_settings)
    assert listener is not None
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        listener.shutdown()
        listener.server_close()
    assert sample(text, "mcp_tool_calls_total", tool="get_item", outcome="ok") == 1
