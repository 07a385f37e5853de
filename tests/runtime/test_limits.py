"""Bounds on what one caller can make the server do (mcpgen.runtime.limits), and the
redaction of credentials from logs (mcpgen.runtime.redaction)."""

from __future__ import annotations

import base64
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any, cast

import anyio
import httpx
import pytest
from jsonschema import Draft202012Validator
from mcp.types import CallToolResult, TextContent

from mcpgen.runtime.config import Settings
from mcpgen.runtime.limits import MAX_DEPTH, InputTooDeepError, check_arguments, problems
from mcpgen.runtime.redaction import Redactor, redact_logs
from mcpgen.runtime.server import ApiServer, create_http_app
from tests.runtime.conftest import make_project
from tests.runtime.test_server import ITEM
from tests.support import net

TAGS = Draft202012Validator(
    {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
        "additionalProperties": False,
    }
)


def test_validation_stops_after_a_few_problems() -> None:
    """300,000 wrong-typed items: five problems and a note, not 300,000 (which took 5.5 s,
    450 MB and a 12 MB message)."""
    seen = 0

    class Counting:
        def iter_errors(self, instance: Any) -> Iterator[Any]:
            nonlocal seen
            for error in TAGS.iter_errors(instance):
                seen += 1
                yield error

    counting = cast(Draft202012Validator, Counting())
    found = problems(counting, {"tags": list(range(300_000))})
    assert found[:2] == ["tags/0: 0 is not of type 'string'", "tags/1: 1 is not of type 'string'"]
    assert len(found) == 6 and found[-1] == "… (more problems not shown)"
    assert seen == 6


def test_each_problem_is_bounded() -> None:
    found = problems(TAGS, {"tags": "x" * 1_000_000})
    assert len(found) == 1 and len(found[0]) <= 300 + len("tags: ")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_deep_arguments_are_refused_without_recursion(anyio_backend: str) -> None:
    deep: Any = "leaf"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InputTooDeepError, match=f"deeper than {MAX_DEPTH} levels"):
        await check_arguments(TAGS, {"tags": deep})
    shallow: Any = "leaf"
    for _ in range(MAX_DEPTH - 2):
        shallow = [shallow]
    (problem,) = await check_arguments(TAGS, {"tags": shallow})
    assert problem.startswith("tags/0: [[[") and problem.endswith("]] is not of type 'string'")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_large_arguments_are_checked_off_the_event_loop(anyio_backend: str) -> None:
    """While 50,000 valid items are checked, the event loop keeps running other work."""
    ticks = 0
    done = anyio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await anyio.sleep(0.001)

    async with anyio.create_task_group() as group:
        group.start_soon(ticker)
        await anyio.sleep(0.01)
        before = ticks
        found = await check_arguments(TAGS, {"tags": ["x"] * 50_000})
        during = ticks - before
        done.set()
    assert found == []
    assert during > 1, "the event loop was blocked while the arguments were checked"


# --- the HTTP front of /mcp ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    settings = Settings(max_request_bytes=100_000)
    app = create_http_app(ApiServer(make_project(), settings, [ITEM]))
    with net.serve_in_thread(app) as url:
        yield url + "/mcp"


HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
def test_methods_other_than_post_get_405(mcp_url: str, method: str) -> None:
    """A stateless server has no stream to offer on GET: an SSE client fails at once instead
    of waiting forever on an empty stream."""
    reply = httpx.request(method, mcp_url, headers=HEADERS, timeout=5)
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"
    assert reply.json()["error"]["code"] == -32600


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 8192):
        yield data[start : start + 8192]


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_cap_is_refused_before_it_is_parsed(mcp_url: str, declared: bool) -> None:
    big = json.dumps({**LIST, "params": {"pad": "x" * 200_000}}).encode()
    content = big if declared else _chunks(big)  # a generator: chunked, no Content-Length
    reply = httpx.post(mcp_url, headers=HEADERS, content=content, timeout=5)
    assert reply.status_code == 413
    assert "over the 100,000-byte limit (MCP_MAX_REQUEST_BYTES)" in reply.json()["error"]["message"]
    small = httpx.post(mcp_url, headers=HEADERS, json=LIST, timeout=5)
    assert small.status_code == 200


# --- credentials never reach the log ------------------------------------------------------------


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secret, user, password = "s3cret-token-value", "me", "pass-word-1"
    redact_logs(Redactor([secret, password], [(user, password)]))
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    log = logging.getLogger("mcpgen.test.redaction")
    with caplog.at_level(logging.INFO):
        log.info("GET %s", httpx.URL(f"https://api.example.com/x?key={secret}"))
        log.info("Authorization: Basic %s", basic)
        try:
            raise ValueError(f"Illegal header value b'pref=x; sid={secret}'")
        except ValueError:
            log.exception("failed")
    redact_logs(Redactor())
    text = caplog.text
    assert secret not in text and basic not in text and password not in text
    assert "key=[redacted]" in text and "sid=[redacted]" in text
    assert list(itertools.islice((r.getMessage() for r in caplog.records), 2)) == [
        "GET https://api.example.com/x?key=[redacted]",
        "Authorization: Basic [redacted]",
    ]


def test_a_secret_with_json_escapes_is_redacted_from_results() -> None:
    """A backslash or a quote in a credential is escaped in a result's JSON text: both the
    text block and the structured content are still redacted."""
    secret = 'sk_live\\ab"cd1234'
    echoed = {"error": {"message": f"bad key {secret}"}}
    result = CallToolResult(
        content=[TextContent(type="text", text=json.dumps(echoed))],
        structured_content=echoed,
        is_error=True,
    )
    redacted = Redactor([secret]).result(result)
    block = redacted.content[0]
    assert isinstance(block, TextContent)
    assert json.loads(block.text) == {"error": {"message": "bad key [redacted]"}}
    assert redacted.structured_content == {"error": {"message": "bad key [redacted]"}}
