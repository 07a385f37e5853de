"""The shared upstream client against a real HTTP server (mcpgen.runtime.upstream)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl

import pytest

from mcpgen.runtime.config import Settings
from mcpgen.runtime.encoding import UNSET, Query
from mcpgen.runtime.upstream import NotConfiguredError, Upstream
from tests.runtime.conftest import Recorder, make_project

CREDENTIALS = {
    "DEMO_KEY": "k-1",
    "DEMO_Q": "q-2",
    "DEMO_C": "c-3",
    "DEMO_TOKEN": "t-4",
    "DEMO_USER": "u",
    "DEMO_PASS": "p",
}

pytestmark = pytest.mark.anyio


def upstream(url: str, **settings: object) -> Upstream:
    values: dict[str, object] = {"base_url": url + "/base", "retries": 0, **settings}
    return Upstream(make_project(), Settings(**values))  # type: ignore[arg-type]


async def test_request_parts_arrive_as_encoded(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.queue(201, {"ok": True})
    async with upstream(url) as api:
        reply = await api.request(
            "POST",
            "/things/{id}",
            path_params={"id": "a/b"},
            query=[Query("tag", ["x", "y"])],
            headers={"X-Trace": "t1"},
            cookies={"pref": "dark"},
            json_body={"name": "n"},
        )
    assert (reply.status, reply.ok, reply.is_json, reply.json()) == (201, True, True, {"ok": True})
    (seen,) = rec.seen
    assert (seen.method, seen.raw_path, seen.query) == ("POST", "/base/things/a%2Fb", "tag=x&tag=y")
    assert seen.headers["x-trace"] == "t1" and seen.headers["cookie"] == "pref=dark"
    assert seen.headers["user-agent"] == "demo-mcp/1.0.0 (mcpgen test)"
    assert seen.body == b'{"name":"n"}'


async def test_form_and_multipart_bodies(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    async with upstream(url) as api:
        await api.request("POST", "/f", form={"a": {"b": 1}, "c": "d"})
        await api.request(
            "POST", "/m", form={"note": "n"}, files={"f": base64.b64encode(b"hi").decode()}
        )
    form, multipart = rec.seen
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(form.body.decode()) == [("a[b]", "1"), ("c", "d")]
    assert multipart.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="f"; filename="f"' in multipart.body and b"\r\nhi\r\n" in multipart.body
    assert b'name="note"' in multipart.body


@pytest.mark.parametrize(
    ("security", "where"),
    [
        ((("key",),), ("header", "x-key", "k-1")),
        ((("query",),), ("query", "k", "q-2")),
        ((("cookie",),), ("header", "cookie", "sid=c-3")),
        ((("token",),), ("header", "authorization", "Bearer t-4")),
        ((("basic",),), ("header", "authorization", "Basic " + base64.b64encode(b"u:p").decode())),
        ((("unknown",), ("token",)), ("header", "authorization", "Bearer t-4")),
    ],
)
async def test_credentials_per_scheme(
    recorder: tuple[Recorder, str],
    security: tuple[tuple[str, ...], ...],
    where: tuple[str, str, str],
) -> None:
    rec, url = recorder
    async with upstream(url, credentials=CREDENTIALS) as api:
        await api.request("GET", "/x", security=security)
    (seen,) = rec.seen
    kind, name, value = where
    if kind == "query":
        assert dict(parse_qsl(seen.query)) == {name: value}
    else:
        assert seen.headers[name] == value


async def test_no_configured_alternative_stops_naming_the_variables(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    async with upstream(url, credentials={"DEMO_USER": "only-user"}) as api:
        with pytest.raises(NotConfiguredError, match="set DEMO_USER and DEMO_PASS"):
            await api.request("GET", "/x", security=(("basic",),))
    assert rec.seen == []  # nothing was sent without its credentials


async def test_idempotent_calls_are_retried(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    for _ in range(2):
        rec.queue(503, {"message": "busy"})
    rec.queue(200, {"ok": 1})
    async with upstream(url, retries=2) as api:
        reply = await api.request("GET", "/x")
        assert reply.status == 200 and len(rec.seen) == 3
        rec.queue(503, {"message": "busy"})
        rec.queue(200, {"ok": 1})
        posted = await api.request("POST", "/x")
    assert posted.status == 503 and len(rec.seen) == 4


async def test_no_base_url_is_reported() -> None:
    api = Upstream(make_project(), Settings())
    with pytest.raises(NotConfiguredError, match="UPSTREAM_BASE_URL"):
        await api.request("GET", "/x")


async def test_an_optional_form_body_not_given_sends_no_body(
    recorder: tuple[Recorder, str],
) -> None:
    """Stripe's GETs and DELETEs take an optional form body: not given, none is sent (236 of
    its tools used to fail with `'Unset' object has no attribute 'items'`)."""
    rec, url = recorder
    async with upstream(url) as api:
        await api.request("GET", "/balance", form=UNSET)
        await api.request("DELETE", "/thing", form=UNSET, files={})
    assert [seen.method for seen in rec.seen] == ["GET", "DELETE"]
    for seen in rec.seen:
        assert seen.body == b"" and "content-type" not in seen.headers


async def test_multipart_without_a_file_is_still_multipart(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    async with upstream(url) as api:
        await api.request("POST", "/files", form={"purpose": "logo", "expand": ["a"]}, files={})
    (seen,) = rec.seen
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="purpose"\r\n\r\nlogo' in seen.body and b'name="expand[0]"' in seen.body


async def test_a_cookie_value_cannot_add_a_cookie(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    async with upstream(url, credentials=CREDENTIALS) as api:
        await api.request("GET", "/x", cookies={"pref": "x; sid=attacker"}, security=(("cookie",),))
    (seen,) = rec.seen
    cookies = [part.split("=", 1) for part in seen.headers["cookie"].split("; ")]
    assert cookies == [["pref", "x%3B%20sid=attacker"], ["sid", "c-3"]]


async def test_parameters_a_scheme_fills_are_not_the_callers(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    parts: dict[str, Any] = {
        "headers": {"x-key": "caller-key", "Authorization": "Bearer caller", "X-Other": "o"},
        "query": [Query("k", "caller-q"), Query("q", "search")],
        "cookies": {"sid": "caller-sid", "pref": "p"},
        "security": (("key", "query", "cookie"),),
    }
    async with upstream(url, credentials=CREDENTIALS) as api:
        await api.request("GET", "/x", **parts)
    (seen,) = rec.seen
    assert seen.headers.get("x-key") == "k-1"
    assert "authorization" not in seen.headers and seen.headers["x-other"] == "o"
    assert parse_qsl(seen.query) == [("q", "search"), ("k", "q-2")]
    assert seen.headers["cookie"] == "pref=p; sid=c-3"
    # Without the credentials, the caller's values never stand in for them: no request.
    async with upstream(url, credentials={}) as api:
        with pytest.raises(NotConfiguredError, match="set DEMO_KEY"):
            await api.request("GET", "/x", **parts)
    assert len(rec.seen) == 1
