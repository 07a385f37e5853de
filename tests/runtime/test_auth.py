"""Inbound auth (mcpgen.runtime.auth) over real HTTP: the server app served on 127.0.0.1, real
tokens from real authorization servers (oidc-provider), the official SDK client.

Every negative uses a token a real AS minted, altered only where the attack needs it (`alg:
none`, HS256 signed with the public key, a tampered payload).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientMetadata,
)
from mcp.types import ToolAnnotations
from pydantic import AnyUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcpgen.runtime.auth import RETRY_AFTER, AuthGate
from mcpgen.runtime.config import AuthConfig, Settings
from mcpgen.runtime.definitions import ToolDef
from mcpgen.runtime.server import ApiServer, create_http_app
from mcpgen.runtime.upstream import Reply, Upstream
from tests.runtime.conftest import make_project
from tests.support import mcpclient, net, procs
from tests.support.mcpclient import MemoryTokens, call_with_auth, code_of
from tests.support.oidc import AuthServer, authorization_server, follow_to_redirect, signing_keys
from tests.support.secrets import SecretScan

ROOT = Path(__file__).resolve().parents[2]
M2M_SECRET = "m2m-secret-0123456789abcdef"
APP_SECRET = "app-secret-0123456789abcdef"
REDIRECT = "http://127.0.0.1:1/callback"
OTHER = "http://127.0.0.1:9/other"
SCOPES = "items:read items:write"


async def read_items(upstream: Upstream) -> Reply:
    return Reply(200, "OK", httpx.Headers({"content-type": "application/json"}), b'{"n":1}')


async def write_item(upstream: Upstream) -> Reply:
    return Reply(200, "OK", httpx.Headers({"content-type": "application/json"}), b'{"ok":1}')


def _tool(name: str, handler: Any, scopes: tuple[str, ...]) -> ToolDef:
    return ToolDef(
        name=name,
        title=name,
        description=name,
        handler=handler,
        arguments={},
        input_schema={"type": "object", "properties": {}},
        output_schema={"type": "object"},
        annotations=ToolAnnotations(read_only_hint=True),
        scopes=scopes,
    )


TOOLS = [
    _tool("read_items", read_items, ("items:read",)),
    _tool("write_item", write_item, ("items:write",)),
    _tool("ping", read_items, ()),
]


def _clients() -> list[dict[str, Any]]:
    return [
        {
            "client_id": "m2m",
            "client_secret": M2M_SECRET,
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
            "scope": SCOPES,
        },
        {
            "client_id": "app",
            "client_secret": APP_SECRET,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT],
            "scope": "openid " + SCOPES,
        },
    ]


@dataclass
class Setup:
    url: str  # the MCP endpoint, also the token audience
    idp: AuthServer
    same_keys_other_issuer: AuthServer
    foreign_same_kid: AuthServer
    foreign_new_kid: AuthServer
    opaque: AuthServer  # same keys and issuer role, but opaque access tokens
    server: ApiServer
    logs: list[str]
    verifier: Any = None  # the gate's OAuthVerifier

    def token(
        self, scope: str = SCOPES, resource: str | None = None, idp: AuthServer | None = None
    ) -> str:
        issued = (idp or self.idp).client_credentials(
            "m2m", M2M_SECRET, resource=resource or self.url, scope=scope
        )
        token: str = issued["access_token"]
        return token


class _Capture(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    logs: list[str] = []
    handler = _Capture(logs)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    built: list[Setup] = []
    with ExitStack() as stack:

        def factory(base: str) -> Any:
            url = base + "/mcp"
            keys = signing_keys("key-a")
            resources = {
                url: {"scope": SCOPES},
                url + "/": {"scope": SCOPES, "ttl": 1},
                OTHER: {"scope": SCOPES},
            }
            opaque = {url: {"scope": SCOPES, "format": "opaque"}}

            def start(jwks: dict[str, Any], found: dict[str, Any] = resources) -> AuthServer:
                return stack.enter_context(
                    authorization_server(resources=found, clients=_clients(), jwks=jwks)
                )

            idp = start(keys)
            auth = AuthConfig(mode="oauth", issuer=idp.issuer, leeway=0.0)
            settings = Settings(public_url=url, auth=auth, base_url="http://127.0.0.1:9")
            server = ApiServer(make_project(title="Items"), settings, TOOLS)
            built.append(
                Setup(
                    url,
                    idp,
                    start(keys),
                    start(signing_keys("key-a")),
                    start(signing_keys("key-b")),
                    start(keys, opaque),
                    server,
                    logs,
                )
            )
            app = create_http_app(server)
            (gate,) = [m for m in app.user_middleware if m.cls is AuthGate]  # type: ignore[comparison-overlap]
            built[0].verifier = gate.kwargs["verifier"]
            return app

        try:
            with net.serve_in_thread(factory=factory, timeout=30):
                yield built[0]
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))),
        json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))),
        signature,
    )


def _post(url: str, token: str | None, body: dict[str, Any]) -> httpx.Response:
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(url, json=body, headers=headers, timeout=10, trust_env=False)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def _challenge(response: httpx.Response) -> dict[str, str]:
    header = response.headers["www-authenticate"]
    assert header.startswith("Bearer ")
    found = {}
    for part in header[len("Bearer ") :].split(", "):
        key, _, value = part.partition("=")
        found[key] = value.strip('"')
    return found


def test_protected_resource_metadata_at_both_well_known_paths(setup: Setup) -> None:
    origin = setup.url.removesuffix("/mcp")
    for path in (
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ):
        response = httpx.get(origin + path, trust_env=False)
        assert response.status_code == 200, path
        assert response.json() == {
            "resource": setup.url,
            "authorization_servers": [setup.idp.issuer],
            "scopes_supported": ["items:read", "items:write"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Items",
        }


def test_no_token_gets_401_with_resource_metadata_and_scope(setup: Setup) -> None:
    response = _post(setup.url, None, INITIALIZE)
    assert response.status_code == 401
    assert _challenge(response) == {
        "resource_metadata": setup.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"),
        "scope": SCOPES,
    }
    assert httpx.get(setup.url.replace("/mcp", "/healthz"), trust_env=False).status_code == 200


def _negatives(setup: Setup) -> dict[str, str]:
    good = setup.token()
    header, payload, signature = _parts(good)
    encoded_payload = good.split(".")[1]
    none_header = _b64(json.dumps({**header, "alg": "none"}).encode())
    public_pem = (
        jwt.PyJWK(setup.idp.config["jwks"]["keys"][0])
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    hs_header = _b64(json.dumps({**header, "alg": "HS256"}).encode())
    hs_input = f"{hs_header}.{encoded_payload}".encode()
    hs_signature = _b64(hmac.new(public_pem, hs_input, hashlib.sha256).digest())
    tampered = _b64(json.dumps({**payload, "scope": "items:read items:write admin"}).encode())
    id_token = setup.idp.code_flow(
        "app", REDIRECT, scope="openid items:read", resource=setup.url, secret=APP_SECRET
    )["id_token"]
    return {
        "another resource's audience": setup.token(resource=OTHER),
        "another issuer, same keys": setup.token(idp=setup.same_keys_other_issuer),
        "a foreign key with the same kid": setup.token(idp=setup.foreign_same_kid),
        "a foreign key with an unknown kid": setup.token(idp=setup.foreign_new_kid),
        "alg none": f"{none_header}.{encoded_payload}.",
        "HS256 signed with the public key": f"{hs_header}.{encoded_payload}.{hs_signature}",
        "a tampered payload": f"{good.split('.')[0]}.{tampered}.{signature}",
        "an id_token": id_token,
        "garbage": "not-a-token-at-all",
    }


def test_every_bad_token_gets_401_invalid_token(setup: Setup) -> None:
    scan = SecretScan()
    for name, token in _negatives(setup).items():
        response = _post(setup.url, token, INITIALIZE)
        assert response.status_code == 401, name
        challenge = _challenge(response)
        assert challenge["error"] == "invalid_token", name
        assert challenge["scope"] == SCOPES and "resource_metadata" in challenge, name
        scan.add(token)
        scan.check([response.text, response.headers["www-authenticate"]], f"the answer to {name}")
    scan.check(setup.logs, "the server's log")


def test_an_expired_token_gets_401(setup: Setup) -> None:
    # the AS issues 1 s tokens for the URL spelled with a trailing slash (an accepted
    # spelling of this server's audience); leeway is 0 in this server. The refusal names
    # expiry, which is checked only once the signature holds.
    token = setup.idp.code_flow(
        "app", REDIRECT, scope="items:read", resource=setup.url + "/", secret=APP_SECRET
    )["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1 and claims["aud"] == setup.url + "/"
    time.sleep(max(0.0, claims["exp"] + 1.1 - time.time()))
    response = _post(setup.url, token, INITIALIZE)
    assert response.status_code == 401
    assert _challenge(response)["error_description"] == "token expired"


def _call(name: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": name, "arguments": {}},
    }


def test_a_missing_scope_is_403_insufficient_scope_and_tools_are_filtered(setup: Setup) -> None:
    reader = setup.token(scope="items:read")
    response = _post(setup.url, reader, _call("write_item"))
    assert response.status_code == 403
    challenge = _challenge(response)
    assert (challenge["error"], challenge["scope"]) == ("insufficient_scope", "items:write")
    assert challenge["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    headers = {"Authorization": f"Bearer {reader}"}
    listed = mcpclient.list_tools_sync(setup.url, headers=headers)
    assert [t.name for t in listed] == ["read_items", "ping"]
    result = mcpclient.call_tool_sync(setup.url, "read_items", headers=headers)
    assert not result.is_error and result.structured_content == {"n": 1}
    everything = {"Authorization": f"Bearer {setup.token()}"}
    assert len(mcpclient.list_tools_sync(setup.url, headers=everything)) == 3
    # one listing per visible set: every tool, and the reader's two
    visible = set(setup.server._visible.values())
    assert visible == {None, frozenset({"read_items", "ping"})}


def test_unknown_kids_refetch_the_keys_at_most_once_per_interval(setup: Setup) -> None:
    stranger = setup.token(idp=setup.foreign_new_kid)
    keys = setup.verifier.keys
    before = keys.fetches
    for _ in range(5):
        assert _post(setup.url, stranger, INITIALIZE).status_code == 401
    assert keys.fetches - before <= 1


class HeadlessBrowser:
    """The user's side of the code flow: follows the authorization URL to the redirect URI."""

    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri
        self.landed = ""

    async def redirect(self, url: str) -> None:
        def follow() -> str:
            with httpx.Client(timeout=10, trust_env=False) as browser:
                return follow_to_redirect(browser, url, self.redirect_uri)

        self.landed = await anyio.to_thread.run_sync(follow)

    async def callback(self) -> AuthorizationCodeResult:
        return code_of(self.landed)


async def _with_auth(url: str, auth: httpx2.Auth) -> tuple[list[str], str]:
    names, result = await call_with_auth(url, auth, "read_items", {})
    return names, mcpclient.text_of(result)


def test_the_sdk_client_completes_the_whole_flow(setup: Setup) -> None:
    """401 → metadata discovery → dynamic registration → code + PKCE with resource → token →
    tool call, with the official SDK's OAuthClientProvider against the real AS."""
    browser = HeadlessBrowser(REDIRECT)
    storage = MemoryTokens()
    provider = OAuthClientProvider(
        server_url=setup.url,
        client_metadata=OAuthClientMetadata(
            redirect_uris=[AnyUrl(REDIRECT)],
            client_name="sdk test client",
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="client_secret_post",
        ),
        storage=storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
    )
    names, text = anyio.run(_with_auth, setup.url, provider)
    assert names == ["read_items", "write_item", "ping"]
    assert json.loads(text) == {"n": 1}
    assert storage.client is not None and storage.tokens is not None  # registered, then signed in
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == setup.url and claims["iss"] == setup.idp.issuer


def test_the_sdk_client_with_client_credentials(setup: Setup) -> None:
    provider = ClientCredentialsOAuthProvider(
        server_url=setup.url,
        storage=MemoryTokens(),
        client_id="m2m",
        client_secret=M2M_SECRET,
        scope="items:read",
        issuer=setup.idp.issuer,
    )
    names, text = anyio.run(_with_auth, setup.url, provider)
    # the SDK asks for the scopes the 401 names (all of them), not its configured one
    assert names == ["read_items", "write_item", "ping"] and json.loads(text) == {"n": 1}


def test_opaque_tokens_are_introspected(setup: Setup) -> None:
    from mcpgen.runtime.auth import OAuthVerifier, TokenRefusedError

    idp = setup.opaque
    config = AuthConfig(mode="oauth", issuer=idp.issuer, client_id="m2m", client_secret=M2M_SECRET)
    verifier = OAuthVerifier(config, setup.url, 10)
    opaque = idp.client_credentials("m2m", M2M_SECRET, resource=setup.url, scope="items:read")
    token = opaque["access_token"]
    assert token.count(".") != 2  # really opaque

    async def check() -> None:
        try:
            found = await verifier.verify(token)
            assert (found.scopes, found.client_id) == (["items:read"], "m2m")
            with pytest.raises(TokenRefusedError, match="inactive token"):
                await verifier.verify("opaque-but-unknown-token")
            without = OAuthVerifier(replace(config, client_id=""), setup.url, 10)
            with pytest.raises(TokenRefusedError, match="not a JWT"):
                await without.verify(token)
        finally:
            await verifier.aclose()

    anyio.run(check)


def test_bearer_mode_accepts_only_its_static_tokens() -> None:
    tokens = ("first-token-0123456789", "second-token-0123456789")
    settings = Settings(auth=AuthConfig(mode="bearer", bearer_tokens=tokens), host="0.0.0.0")
    app = create_http_app(ApiServer(make_project(), settings, TOOLS))
    with net.serve_in_thread(app) as base:
        url = base + "/mcp"
        missing = _post(url, None, INITIALIZE)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="mcp"'
        wrong = _post(url, "third-token-0123456789", INITIALIZE)
        assert wrong.status_code == 401 and _challenge(wrong)["error"] == "invalid_token"
        for token in tokens:  # every tool: static tokens carry no scopes
            listed = mcpclient.list_tools_sync(url, headers={"Authorization": f"Bearer {token}"})
            assert [t.name for t in listed] == ["read_items", "write_item", "ping"]
        metadata = httpx.get(base + "/.well-known/oauth-protected-resource", trust_env=False)
        assert metadata.status_code == 404  # no authorization server to advertise


# --- an authorization server that cannot be asked ----------------------------------------------


@dataclass
class StandIn:
    """An authorization server's key and introspection endpoints on 127.0.0.1: failing with
    500, or (when `failing` is off) serving the real authorization server's public keys."""

    jwks_from: str
    failing: bool = True
    hits: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.hits.append("jwks")
            if self.failing:
                return Response("upstream database down", status_code=500)
            async with httpx.AsyncClient(trust_env=False) as http:
                keys = await http.get(self.jwks_from)
            return Response(keys.content, media_type="application/json")

        async def introspect(request: Request) -> Response:
            self.hits.append("introspect")
            return Response("overloaded", status_code=500)

        return Starlette(
            routes=[Route("/jwks", jwks), Route("/introspect", introspect, methods=["POST"])]
        )


def _oauth_gate(url: str, config: AuthConfig) -> tuple[Any, Any]:
    """The app of an `oauth` server at `url`, and its gate's verifier."""
    server = ApiServer(make_project(title="Items"), Settings(public_url=url, auth=config), TOOLS)
    app = create_http_app(server)
    (gate,) = [m for m in app.user_middleware if m.cls is AuthGate]  # type: ignore[comparison-overlap]
    return app, gate.kwargs["verifier"]


def _assert_503(response: httpx.Response, name: str) -> None:
    assert response.status_code == 503, (name, response.status_code, response.text)
    assert response.headers["retry-after"] == str(RETRY_AFTER), name
    assert "www-authenticate" not in response.headers, name  # the token was not refused
    assert response.json()["error"] == "temporarily_unavailable", name


def test_an_unreachable_authorization_server_gets_503_with_retry_after_not_401(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Keys or introspection answering 500, then refusing connections (stand-in stopped),
    then discovery at a stopped real authorization server: each is 503 + Retry-After, logged.
    Keys fetched before the outage keep working; a recovered server is asked again."""
    caplog.set_level(logging.WARNING, logger="mcpgen.runtime.auth")
    port = net.free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with (
        authorization_server(resources={url: {"scope": SCOPES}}, clients=_clients()) as idp,
        ExitStack() as stack,
    ):
        token = idp.client_credentials("m2m", M2M_SECRET, resource=url, scope=SCOPES)
        jwt_token = token["access_token"]
        opaque = "an-opaque-token-0123456789"
        stand_in = StandIn(jwks_from=idp.issuer + "/jwks")
        stand = stack.enter_context(net.serve_in_thread(stand_in.app()))
        config = AuthConfig(
            mode="oauth",
            issuer=idp.issuer,
            jwks_url=stand + "/jwks",
            introspection_url=stand + "/introspect",
            client_id="m2m",
            client_secret=M2M_SECRET,
        )
        app, verifier = _oauth_gate(url, config)
        verifier.keys.retry_interval = 3600  # not asked again before the test allows it
        with net.serve_in_thread(app, port=port):
            _assert_503(_post(url, jwt_token, INITIALIZE), "keys answering 500")
            _assert_503(_post(url, opaque, INITIALIZE), "introspection answering 500")
            assert stand_in.hits == ["jwks", "introspect"]
            stand_in.failing = False
            _assert_503(_post(url, jwt_token, INITIALIZE), "within the retry interval")
            assert stand_in.hits == ["jwks", "introspect"]  # not asked again so soon
            verifier.keys.retry_interval = 0  # the retry interval has passed
            assert _post(url, jwt_token, INITIALIZE).status_code == 200  # recovered
            stack.close()  # the stand-in stops: its port refuses connections
            _assert_503(_post(url, opaque, INITIALIZE), "introspection refusing connections")
            assert _post(url, jwt_token, INITIALIZE).status_code == 200  # keys already held
        stopped = AuthConfig(mode="oauth", issuer=idp.issuer, jwks_url=stand + "/jwks")
        with net.serve_in_thread(_oauth_gate(url, stopped)[0], port=port):
            _assert_503(_post(url, jwt_token, INITIALIZE), "keys refusing connections")
    discovered = AuthConfig(mode="oauth", issuer=idp.issuer)  # the real server, now stopped
    with net.serve_in_thread(_oauth_gate(url, discovered)[0], port=port):
        _assert_503(_post(url, jwt_token, INITIALIZE), "discovery refusing connections")
        assert _post(url, "not-a-token-at-all", INITIALIZE).status_code == 401
    logged = [r.getMessage() for r in caplog.records if "answered 503" in r.getMessage()]
    assert len(logged) == 6, logged
    assert not any(jwt_token in line or opaque in line for line in caplog.messages)


class SlowKeys:
    """A key endpoint on 127.0.0.1 that is down (500), and answers each request only once
    the test lets it (`release`), after telling it the request arrived (`entered`)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.hits = 0

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.hits += 1
            self.entered.set()
            released = await anyio.to_thread.run_sync(self.release.wait, 15.0)
            assert released, "the test never released the key endpoint"
            return Response("upstream database down", status_code=500)

        return Starlette(routes=[Route("/jwks", jwks)])


def test_a_request_during_a_key_retry_in_an_outage_gets_503_not_401() -> None:
    """While a retry of the key fetch is under way in an outage, a second request for the
    same unknown key waits for that fetch's outcome (still down: 503), where it used to see
    the outage as over before the fetch had answered, and get 401."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    port = net.free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    claims = {"iss": "https://as.example", "aud": url, "sub": "s", "exp": time.time() + 600}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    keys = SlowKeys()
    with (
        net.serve_in_thread(keys.app()) as stand,
        ThreadPoolExecutor(2) as pool,
    ):
        config = AuthConfig(mode="oauth", issuer="https://as.example", jwks_url=stand + "/jwks")
        app, verifier = _oauth_gate(url, config)
        with net.serve_in_thread(app, port=port):
            keys.release.set()
            _assert_503(_post(url, token, INITIALIZE), "keys answering 500")
            keys.release.clear()
            keys.entered.clear()
            verifier.keys.retry_interval = 0  # the next request retries the fetch
            first = pool.submit(_post, url, token, INITIALIZE)
            assert keys.entered.wait(15), "the retry never reached the key endpoint"
            second = pool.submit(_post, url, token, INITIALIZE)
            lock = verifier.keys._lock
            deadline = time.monotonic() + 15
            while not second.done() and lock.statistics().tasks_waiting == 0:
                assert time.monotonic() < deadline, "the second request never arrived"
                time.sleep(0.01)
            keys.release.set()  # the retry's answer: still down
            _assert_503(first.result(timeout=15), "the retry")
            _assert_503(second.result(timeout=15), "a request during the retry")
    assert keys.hits == 2  # the second request waited for the retry, it did not fetch again


# --- start-up cost -------------------------------------------------------------------------------

_STARTUP = """
import sys
import httpx
from mcpgen.runtime.config import AuthConfig, Settings
from mcpgen.runtime.server import ApiServer, create_http_app
from tests.runtime.conftest import make_project
from tests.runtime.test_server import ITEM
from tests.support import net

mode, token = sys.argv[1], "static-token-0123456789"
auth = AuthConfig(mode=mode, bearer_tokens=(token,), issuer="http://127.0.0.1:9/as")
settings = Settings(public_url="http://127.0.0.1:9/mcp" if mode == "oauth" else "", auth=auth)
app = create_http_app(ApiServer(make_project(), settings, [ITEM]))
headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
if mode != "none":  # the static token; in oauth mode a JWT (malformed: no AS is running)
    headers["Authorization"] = "Bearer " + (token if mode == "bearer" else "a.b.c")
initialize = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}},
}
with net.serve_in_thread(app) as base:
    assert httpx.get(base + "/healthz", trust_env=False).status_code == 200
    answer = httpx.post(base + "/mcp", json=initialize, headers=headers, trust_env=False)
    print(answer.status_code, "jwt" in sys.modules)
"""


@pytest.mark.parametrize(
    ("mode", "expected"), [("none", "200 False"), ("bearer", "200 False"), ("oauth", "401 True")]
)
def test_pyjwt_is_imported_only_where_tokens_are_checked(mode: str, expected: str) -> None:
    """A fresh interpreter serves the app in each mode and takes one request: `none` and
    `bearer` never import PyJWT (tens of milliseconds of start-up); `oauth` does, to check a JWT."""
    argv = [sys.executable, "-c", _STARTUP, mode]
    done = procs.run_bounded(argv, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == expected, done.stdout
