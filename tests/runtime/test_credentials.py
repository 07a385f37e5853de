"""Upstream credentials (mcpgen.runtime.credentials): OAuth 2 client credentials from a real
authorization server (oidc-provider), sent to a real recording upstream."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote, unquote_plus

import anyio
import jwt
import pytest
from mcp import Client
from mcp.types import ToolAnnotations
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpgen.runtime.config import Settings
from mcpgen.runtime.credentials import (
    NotConfiguredError,
    UpstreamAuthError,
    client_auth_header,
    parse_scopes,
)
from mcpgen.runtime.definitions import ProjectInfo, Scheme, ToolDef
from mcpgen.runtime.redaction import (
    MASK,
    MAX_LEARNED,
    Redactor,
    call_scope,
    end_call,
    mask_in_call,
    redact_logs,
)
from mcpgen.runtime.server import ApiServer
from mcpgen.runtime.upstream import Reply, Upstream
from tests.runtime.conftest import Recorder, make_project
from tests.support import net
from tests.support.oidc import AuthServer, authorization_server

pytestmark = pytest.mark.anyio
API = "http://127.0.0.1:9/api"  # the audience the AS puts in tokens for the upstream API
SECRET = "m2m-secret-0123456789"
# A client whose ID and secret hold what HTTP Basic cannot carry as is (RFC 6749 2.3.1; both
# are VSCHAR, printable ASCII and space, by its appendix A).
ODD_ID = "odd:client/1"
ODD_SECRET = "s3cret: with+plus/and%percent&"
VARIABLES = (
    "API_TOKEN", "API_CLIENT_ID", "API_CLIENT_SECRET", "API_TOKEN_URL", "API_AUTHORIZE_URL",
    "API_SCOPES",
)  # fmt: skip


@pytest.fixture(scope="module")
def idp() -> Iterator[AuthServer]:
    client = {
        "client_id": "m2m",
        "client_secret": SECRET,
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "response_types": [],
    }
    odd = {**client, "client_id": ODD_ID, "client_secret": ODD_SECRET}
    with authorization_server(
        resources={API: {"scope": "items:read items:write"}},
        clients=[client, odd],
        default_resource=API,
        client_credentials_ttl=8,
    ) as server:
        yield server


def oauth_settings(url: str, idp: AuthServer, **given: str) -> tuple[ProjectInfo, Settings]:
    scheme = Scheme(
        kind="oauth2",
        variables=VARIABLES,
        token_url=idp.token_endpoint,
        scopes=("items:read",),
    )
    project = make_project(
        schemes={"oauth": scheme, "key": Scheme("api_key", ("KEY",), param="X-Key")}
    )
    credentials = {"API_CLIENT_ID": "m2m", "API_CLIENT_SECRET": SECRET, **given}
    return project, Settings(base_url=url, retries=0, credentials=credentials)


def oauth_upstream(url: str, idp: AuthServer, **given: str) -> Upstream:
    return Upstream(*oauth_settings(url, idp, **given))


def bearer(rec: Recorder, index: int) -> str:
    return rec.seen[index].headers["authorization"].removeprefix("Bearer ")


async def test_one_token_for_many_concurrent_calls_renewed_before_expiry(
    recorder: tuple[Recorder, str], idp: AuthServer
) -> None:
    rec, url = recorder
    async with oauth_upstream(url, idp) as api:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(lambda: api.request("GET", "/x", security=(("oauth",),)))
        source = api.credentials.client_credentials("oauth")
        assert source is not None and source.fetches == 1  # single-flight
        tokens = {bearer(rec, i) for i in range(8)}
        assert len(tokens) == 1
        claims = jwt.decode(tokens.pop(), options={"verify_signature": False})
        assert (claims["aud"], claims["client_id"], claims["scope"]) == (API, "m2m", "items:read")
        await anyio.sleep(4.2)  # past half of its 8 s life: renewed before it expires
        await api.request("GET", "/x", security=(("oauth",),))
        assert source.fetches == 2 and bearer(rec, 8) != bearer(rec, 0)


async def test_a_401_renews_the_token_and_retries_once(
    recorder: tuple[Recorder, str], idp: AuthServer
) -> None:
    rec, url = recorder
    rec.queue(401, {"message": "token revoked"})
    rec.queue(200, {"ok": True})
    learned: list[str] = []
    async with Upstream(*oauth_settings(url, idp), learn=learned.append) as api:
        reply = await api.request("POST", "/x", security=(("oauth",),))
        assert reply.status == 200 and len(rec.seen) == 2
        assert bearer(rec, 0) != bearer(rec, 1)
        assert learned == [bearer(rec, 0), bearer(rec, 1)]  # each token told to `learn`
        rec.queue(401, {"message": "no"})
        rec.queue(401, {"message": "still no"})
        reply = await api.request("GET", "/x", security=(("oauth",),))
        assert reply.status == 401 and len(rec.seen) == 4  # once, not in a loop


async def test_alternatives_pick_the_first_configured(
    recorder: tuple[Recorder, str], idp: AuthServer
) -> None:
    rec, url = recorder
    async with oauth_upstream(url, idp, KEY="key-123456") as api:
        await api.request("GET", "/x", security=(("key",), ("oauth",)))
        await api.request("GET", "/x", security=(("nothing",), ("oauth",)))
    assert rec.seen[0].headers["x-key"] == "key-123456"
    assert "authorization" not in rec.seen[0].headers
    assert rec.seen[1].headers["authorization"].startswith("Bearer ey")


async def test_refused_client_credentials_name_the_variables_not_the_secret(
    recorder: tuple[Recorder, str], idp: AuthServer
) -> None:
    _, url = recorder
    async with oauth_upstream(url, idp, API_CLIENT_SECRET="wrong-secret-0123456") as api:
        with pytest.raises(UpstreamAuthError) as caught:
            await api.request("GET", "/x", security=(("oauth",),))
    message = str(caught.value)
    assert "API_CLIENT_ID and API_CLIENT_SECRET" in message and "invalid_client" in message
    assert "wrong-secret" not in message


async def test_missing_credentials_name_every_way_to_configure(
    recorder: tuple[Recorder, str], idp: AuthServer
) -> None:
    rec, url = recorder
    api = oauth_upstream(url, idp)
    api.credentials.given = {}
    with pytest.raises(NotConfiguredError) as caught:
        await api.request("GET", "/x", security=(("key",), ("oauth",)))
    assert str(caught.value) == (
        "no upstream credentials are configured: set KEY (security scheme 'key'); or set "
        "API_CLIENT_ID and API_CLIENT_SECRET or API_TOKEN (security scheme 'oauth')"
    )
    async with api:
        await api.request("GET", "/x", security=(("key",), ()))  # `{}`: anonymous allowed
    assert "authorization" not in rec.seen[0].headers and "x-key" not in rec.seen[0].headers


def test_client_authentication_form_encodes_each_part_before_basic() -> None:
    header = client_auth_header(ODD_ID, ODD_SECRET)["Authorization"]
    encoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    user, _, password = encoded.partition(":")  # the only ":" left is the separator
    assert (unquote_plus(user), unquote_plus(password)) == (ODD_ID, ODD_SECRET)
    assert ":" not in user and ":" not in password and " " not in password
    assert user == "odd%3Aclient%2F1" and password.startswith("s3cret%3A+with%2Bplus")


def test_scope_settings_split_on_spaces_and_commas() -> None:
    assert parse_scopes("a:read, b:write  c\td,") == ("a:read", "b:write", "c", "d")
    assert parse_scopes("") == ()


async def test_a_client_whose_secret_needs_encoding_gets_a_token(
    recorder: tuple[Recorder, str], idp: AuthServer
) -> None:
    """The real authorization server decodes what `client_auth_header` sends (oauth-proxy's
    own client uses the same function)."""
    rec, url = recorder
    given = {"API_CLIENT_ID": ODD_ID, "API_CLIENT_SECRET": ODD_SECRET, "API_SCOPES": "items:read,"}
    async with oauth_upstream(url, idp, **given) as api:
        await api.request("GET", "/x", security=(("oauth",),))
    claims = jwt.decode(bearer(rec, 0), options={"verify_signature": False})
    assert (claims["client_id"], claims["scope"]) == (ODD_ID, "items:read")


async def echo(upstream: Upstream) -> Reply:
    return await upstream.request("GET", "/echo", security=(("oauth",),))


ECHO = ToolDef(
    name="echo",
    title="echo",
    description="What the API saw.",
    handler=echo,
    arguments={},
    input_schema={"type": "object", "properties": {}},
    output_schema={"type": "object"},
    annotations=ToolAnnotations(read_only_hint=True),
)


async def test_a_client_credentials_token_is_masked_in_results_and_logs(
    idp: AuthServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The token the server obtains from the real authorization server is added to its
    redactor: an API that echoes it, and a log line that holds it, show `[redacted]`."""
    seen: list[str] = []

    async def api(request: Request) -> Response:
        seen.append(request.headers["authorization"].removeprefix("Bearer "))
        return JSONResponse({"you_sent": seen[-1], "quoted": quote(seen[-1], safe="")})

    with net.serve_in_thread(Starlette(routes=[Route("/echo", api)])) as url:
        server = ApiServer(*oauth_settings(url, idp), [ECHO])
        async with Client(server) as client:
            result = await client.call_tool("echo", {})
    (token,) = seen
    assert result.structured_content == {"you_sent": MASK, "quoted": MASK}
    logging.getLogger("tests.credentials").warning("the API was sent %s", token)
    assert f"the API was sent {MASK}" in caplog.messages
    assert token not in json.dumps(result.model_dump(mode="json")) + "".join(caplog.messages)


def test_the_redactor_keeps_the_most_recent_learned_tokens() -> None:
    redactor = Redactor(["configured-secret-0123"])
    learned = [f"learned-token-{n:04d}-abcdef" for n in range(MAX_LEARNED + 1)]
    for token in learned:
        redactor.add(token)
    redactor.add(learned[-1])  # known: nothing changes
    redactor.add("abc")  # too short to mask safely
    assert redactor.text(f"{learned[-1]} configured-secret-0123 abc") == f"{MASK} {MASK} abc"
    assert redactor.text(learned[1]) == MASK
    assert redactor.text(learned[0]) == learned[0]  # the oldest was forgotten
    assert redactor.text(base64.b64encode(learned[-1].encode()).decode()) == MASK


def test_the_redactor_forgets_the_least_recently_used_learned_token() -> None:
    """A token used again is kept over one not used since: a client-credentials token in use
    for long is never forgotten in favour of newer ones that were used once."""
    redactor = Redactor()
    learned = [f"learned-token-{n:04d}-abcdef" for n in range(MAX_LEARNED)]
    for token in learned:
        redactor.add(token)
    forms = redactor.forms
    redactor.add(learned[0])  # used again: the most recent now, nothing to re-sort
    assert redactor.forms is forms
    redactor.add("one-more-learned-token-abcdef")
    assert redactor.text(learned[0]) == MASK
    assert redactor.text(learned[1]) == learned[1]  # the least recently used went


async def test_a_calls_own_secrets_are_masked_in_that_task_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`mask_in_call` widens what the current task masks (results and log lines), never what
    another task or the server's redactor masks; `call_scope` starts a call afresh."""
    redactor = Redactor(["configured-secret-0123"])
    redact_logs(redactor)
    seen: dict[str, str] = {}

    async def call(name: str, secret: str) -> None:
        scope = call_scope()
        try:
            mask_in_call(secret, None, "abc")  # None and short values are ignored
            await anyio.sleep(0.01)  # the other call runs meanwhile
            seen[name] = redactor.text(f"{secret} {other[name]} configured-secret-0123 abc")
            logging.getLogger("tests.credentials").warning("%s used %s", name, secret)
        finally:
            end_call(scope)

    other = {"a": "secret-of-b-0123456789", "b": "secret-of-a-0123456789"}
    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "a", "secret-of-a-0123456789")
        tg.start_soon(call, "b", "secret-of-b-0123456789")
    assert seen == {
        "a": f"{MASK} secret-of-b-0123456789 {MASK} abc",
        "b": f"{MASK} secret-of-a-0123456789 {MASK} abc",
    }
    assert {"a used [redacted]", "b used [redacted]"} <= set(caplog.messages)
    assert redactor.text("secret-of-a-0123456789") == "secret-of-a-0123456789"
    scope = call_scope()
    try:
        mask_in_call("secret-of-a-0123456789xyz", "secret-of-a-0123456789")
        # Longest first across the server's forms and the call's: the longer masked whole.
        assert redactor.text("secret-of-a-0123456789xyz") == MASK
        assert redactor  # a call's secrets make even an empty redactor mask
        assert Redactor().text(quote("secret-of-a-0123456789", safe="")) == MASK
    finally:
        end_call(scope)
    assert not Redactor()
