"""oauth-proxy's client registration (mcpgen.runtime.proxy) over real HTTP: Client ID Metadata
Documents fetched from a real HTTPS server whose certificate comes from a test CA, trusted by
the server through `SSL_CERT_FILE`; loopback documents accepted only when the test-only
allowance `MCP_TEST_ALLOW_LOOPBACK_CLIENT_METADATA` is on, which it is not by default."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from mcp.types import CallToolResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpgen.runtime import proxy as proxy_module
from mcpgen.runtime.config import AuthConfig, Settings
from mcpgen.runtime.definitions import Scheme
from mcpgen.runtime.proxy import OAuthProxy, RegistrationLimit
from mcpgen.runtime.redaction import MASK
from mcpgen.runtime.server import ApiServer, Hooks, ToolCall, create_http_app
from mcpgen.runtime.state import SqliteStore
from mcpgen.runtime.upstream import Reply
from tests.runtime.conftest import make_project
from tests.runtime.test_auth import TOOLS
from tests.runtime.test_credentials import ECHO
from tests.support import net
from tests.support.tls import TestCA, serve_https

REDIRECT = "http://127.0.0.1:1/callback"
VARIABLES = ("T", "UPSTREAM_ID", "UPSTREAM_SECRET", "TU", "AU", "SC")


def documents() -> Starlette:
    async def document(request: Request) -> Response:
        name = request.path_params["name"]
        url = str(request.url)
        body: Any = {
            "client_id": url,
            "client_name": "Doc <b>Client</b>",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
        }
        if name == "wrong.json":
            body["client_id"] = url.replace("wrong", "other")
        if name == "secret.json":
            body["client_secret"] = "a-secret-in-a-public-document"
        if name == "big.json":
            body["padding"] = "x" * 11_000
        return Response(json.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/{name}", document)])


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    ca = TestCA(tmp_path_factory.mktemp("ca"))
    with serve_https(documents(), ca) as base:
        yield base, ca.bundle


def proxy_app(base: str, tmp: Path, *, allow_loopback: bool, **auth_changes: Any) -> Any:
    scheme = Scheme(
        kind="oauth2",
        variables=VARIABLES,
        authorize_url="https://idp.example/authorize",
        code_token_url="https://idp.example/token",
    )
    auth = AuthConfig(
        mode="oauth-proxy",
        state_url=f"sqlite:///{tmp}/state-{allow_loopback}.sqlite3",
        state_key="k" * 40,
        allow_loopback_client_metadata=allow_loopback,
        **auth_changes,
    )
    settings = Settings(
        public_url=base + "/mcp", auth=auth, credentials={"UPSTREAM_ID": "mcp-server"}
    )
    return create_http_app(ApiServer(make_project(schemes={"oauth": scheme}), settings, TOOLS))


def authorize(base: str, client_id: str) -> httpx.Response:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
        "state": "s",
        "resource": base + "/mcp",
    }
    return httpx.get(f"{base}/authorize?{urlencode(query)}", trust_env=False, timeout=15)


async def call_echo(http: httpx.AsyncClient, base: str, token: str) -> dict[str, Any]:
    """The echo tool called over /mcp with this server's access token: the JSON-RPC result."""
    response = await http.post(
        base + "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
              "params": {"name": "echo", "arguments": {}}},
        headers={"Authorization": f"Bearer {token}",
                 "Accept": "application/json, text/event-stream",
                 "MCP-Protocol-Version": "2025-06-18"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


@contextmanager
def echo_behind_proxy(idp: str, tmp_path: Path, hooks: Hooks) -> Iterator[tuple[str, ApiServer]]:
    """The echo tool served in oauth-proxy mode, signing users in at the identity provider
    at `idp` (its API under /api), with `hooks` as custom.py's: its URL and its server."""
    scheme, auth = proxy_scheme(idp, tmp_path)
    built: list[ApiServer] = []

    def factory(base: str) -> Any:
        settings = Settings(
            public_url=base + "/mcp",
            auth=auth,
            credentials={"UPSTREAM_ID": "mcp-server"},
            base_url=idp + "/api",
            retries=0,
        )
        project = make_project(schemes={"oauth": scheme})
        built.append(ApiServer(project, settings, [ECHO], hooks=hooks))
        return create_http_app(built[0])

    with net.serve_in_thread(factory=factory) as base:
        yield base, built[0]


def proxy_scheme(idp: str, tmp_path: Path) -> tuple[Scheme, AuthConfig]:
    """The upstream scheme of an identity provider at `idp`, and oauth-proxy settings with
    their state in `tmp_path`."""
    scheme = Scheme(
        kind="oauth2",
        variables=VARIABLES,
        authorize_url=idp + "/authorize",
        code_token_url=idp + "/token",
    )
    auth = AuthConfig(
        mode="oauth-proxy", state_url=f"sqlite:///{tmp_path}/state.sqlite3", state_key="k" * 40
    )
    return scheme, auth


def test_metadata_documents_behind_the_loopback_allowance(
    docs: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_base, bundle = docs
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # the test CA, as a deployment would
    assert AuthConfig().allow_loopback_client_metadata is False
    assert Settings.from_env(make_project(), {}).auth.allow_loopback_client_metadata is False
    with net.serve_in_thread(factory=lambda b: proxy_app(b, tmp_path, allow_loopback=False)) as off:
        refused = authorize(off, f"{doc_base}/client.json")
        assert refused.status_code == 400 and "not found" in refused.text
        metadata = httpx.get(off + "/.well-known/oauth-authorization-server", trust_env=False)
        assert metadata.json()["client_id_metadata_document_supported"] is True
        assert metadata.json()["code_challenge_methods_supported"] == ["S256"]
    with net.serve_in_thread(factory=lambda b: proxy_app(b, tmp_path, allow_loopback=True)) as on:
        accepted = authorize(on, f"{doc_base}/client.json")
        assert accepted.status_code == 302
        consent = httpx.get(accepted.headers["location"], trust_env=False)
        assert consent.status_code == 200
        assert "Doc &lt;b&gt;Client&lt;/b&gt;" in consent.text and "<b>Client" not in consent.text
        assert consent.headers["x-frame-options"] == "DENY"
        for bad in ("wrong.json", "secret.json", "big.json"):
            assert authorize(on, f"{doc_base}/{bad}").status_code == 400, bad
        assert authorize(on, doc_base.replace("https", "http") + "/client.json").status_code == 400
        wrong_target = httpx.get(
            str(authorize(on, f"{doc_base}/client.json").url).replace("%2Fmcp", "%2Fother"),
            trust_env=False,
        )
        assert "invalid_target" in wrong_target.headers.get("location", wrong_target.text)


def test_untrusted_ca_is_refused(docs: tuple[str, Path], tmp_path: Path) -> None:
    doc_base, _ = docs  # SSL_CERT_FILE unset: the system's trust store knows no test CA
    with net.serve_in_thread(factory=lambda b: proxy_app(b, tmp_path, allow_loopback=True)) as on:
        assert authorize(on, f"{doc_base}/client.json").status_code == 400


def test_a_consent_post_without_its_csrf_token_is_refused(
    docs: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_base, bundle = docs
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with (
        net.serve_in_thread(factory=lambda b: proxy_app(b, tmp_path, allow_loopback=True)) as on,
        httpx.Client(trust_env=False, timeout=15) as browser,
    ):
        consent_url = authorize(on, f"{doc_base}/client.json").headers["location"]
        page = browser.get(consent_url)
        tx = consent_url.split("tx=")[1]
        forged = browser.post(
            on + "/oauth/consent", data={"tx": tx, "csrf": "forged", "decision": "approve"}
        )
        assert forged.status_code == 403
        assert "csrf" in page.text
        with httpx.Client(trust_env=False, timeout=15) as attacker:  # no CSRF cookie
            csrf = page.text.split("name='csrf' value='")[1].split("'")[0]
            stolen = attacker.post(
                on + "/oauth/consent", data={"tx": tx, "csrf": csrf, "decision": "approve"}
            )
            assert stolen.status_code == 403
        approved = browser.post(
            on + "/oauth/consent", data={"tx": tx, "csrf": csrf, "decision": "approve"}
        )
        assert approved.status_code == 302
        assert approved.headers["location"].startswith("https://idp.example/authorize?")


@pytest.mark.anyio
async def test_a_provider_fault_on_renewal_keeps_the_grant_and_a_refusal_ends_it(
    tmp_path: Path,
) -> None:
    """Renewing a user's upstream token: a 503 or an unreachable provider is a passing fault
    (the grant stays, the call gets no token this time); a 4xx refusal revokes the grant."""
    answers = [Response("busy", status_code=503), Response('{"error": "invalid_grant"}', 400)]

    async def token(request: Request) -> Response:
        return answers.pop(0)

    with net.serve_in_thread(Starlette(routes=[Route("/token", token, methods=["POST"])])) as idp:
        scheme, auth = proxy_scheme(idp, tmp_path)
        settings = Settings(
            public_url="http://127.0.0.1:1/mcp",
            auth=auth,
            credentials={"UPSTREAM_ID": "mcp-server"},
        )
        server = ApiServer(make_project(schemes={"oauth": scheme}), settings, TOOLS)
        proxy = OAuthProxy(server)
        try:
            expired = {"access_token": "old", "refresh_token": "r", "expires_at": 1.0}
            grant = {"upstream": {"scheme": "oauth", **expired}}
            await proxy._save_grant("g1", grant)
            assert await proxy._renew_upstream("g1", grant) is None  # 503
            assert await proxy._load("grant:g1") == grant
            assert await proxy._renew_upstream("g1", grant) is None  # 400 invalid_grant
            assert await proxy._load("grant:g1") is None
        finally:
            await proxy.aclose()
    assert answers == []


REGISTRATION = {
    "redirect_uris": [REDIRECT],
    "client_name": "A client",
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
}


def test_dynamic_registration_is_limited_per_client_address(tmp_path: Path) -> None:
    assert AuthConfig.from_env({}, "").registration_limit == 20
    assert AuthConfig.from_env({"MCP_AUTH_REGISTRATION_LIMIT": "3"}, "").registration_limit == 3
    with pytest.raises(SystemExit, match="MCP_AUTH_REGISTRATION_LIMIT"):
        AuthConfig.from_env({"MCP_AUTH_REGISTRATION_LIMIT": "-1"}, "")

    def registrations(limit: int, count: int) -> list[httpx.Response]:
        def app(base: str) -> Any:
            return proxy_app(base, tmp_path, allow_loopback=False, registration_limit=limit)

        with (
            net.serve_in_thread(factory=app) as base,
            httpx.Client(base_url=base, trust_env=False, timeout=15) as http,
        ):
            made = [http.post("/register", json=REGISTRATION) for _ in range(count)]
            preflight = http.options(
                "/register",
                headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
            )
            assert preflight.status_code == 200  # not counted, not refused
            made.append(http.post("/register", json=REGISTRATION))
            made.append(http.post("/register", json={"redirect_uris": ["ftp://x"]}))
            return made

    limited = registrations(3, 3)
    assert [r.status_code for r in limited] == [201, 201, 201, 429, 429]
    assert limited[3].headers["retry-after"] == "1200"  # one registration per 3600 / 3 s
    assert limited[3].json()["error"] == "too_many_requests"
    unlimited = registrations(0, 25)
    assert {r.status_code for r in unlimited[:26]} == {201}
    assert unlimited[26].status_code == 400  # refused for what it is, not for how many


def test_the_registration_bucket_refills_per_address_and_stays_bounded() -> None:
    limit = RegistrationLimit(2, max_addresses=3)
    assert [limit.take("a", 0.0), limit.take("a", 0.0)] == [0.0, 0.0]
    assert limit.take("a", 0.0) == pytest.approx(1800.0)
    assert limit.take("b", 1.0) == 0.0  # another address has its own bucket
    assert limit.take("a", 1800.0) == 0.0  # one registration back after 3600 / 2 s
    assert limit.take("a", 1800.0) == pytest.approx(1800.0)
    for address in ("c", "d", "e"):  # past max_addresses: full buckets go first, then the oldest
        assert limit.take(address, 1800.0) == 0.0
    assert len(limit._buckets) <= 3
    assert limit.take("a", 1800.0) == 0.0  # forgotten, so full again (bounded memory wins)


def test_a_new_address_past_the_tracked_limit_forgets_one_address_without_a_scan() -> None:
    """Once `max_addresses` are tracked, each new address forgets the one that registered
    least recently, and looks at no other bucket (it used to weigh every tracked one)."""
    weighed: list[str] = []

    class Counting(RegistrationLimit):
        def _left(self, address: str, now: float) -> float:
            weighed.append(address)
            return super()._left(address, now)

    limit = Counting(3, max_addresses=100)
    for n in range(100):
        assert limit.take(f"10.0.0.{n}", float(n)) == 0.0
    assert limit.take("10.0.0.0", 100.0) == 0.0  # registers again: now the most recent
    weighed.clear()
    for n in range(50):
        assert limit.take(f"10.0.1.{n}", 200.0 + n) == 0.0
    assert len(weighed) == 50  # each new address weighed its own bucket only
    assert len(limit._buckets) == 100
    assert "10.0.0.1" not in limit._buckets and "10.0.0.50" not in limit._buckets
    assert "10.0.0.51" in limit._buckets
    assert limit._buckets["10.0.0.0"][0] < 2  # still holds its two registrations


class CountingStore(SqliteStore):
    """The real SQLite store, counting the reads of users' grants."""

    grant_reads = 0

    async def get(self, key: str) -> bytes | None:
        if key.startswith("grant:"):
            self.grant_reads += 1
        return await super().get(key)


ACCESS_1, REFRESH_1 = "user-access-1-0123456789abcdef", "user-refresh-1-0123456789abcdef"
ACCESS_2, REFRESH_2 = "user-access-2-0123456789abcdef", "user-refresh-2-0123456789abcdef"


def identity_provider_and_api(seen: list[str], refused: set[str]) -> Starlette:
    """The API's identity provider (a token endpoint renewing ACCESS_1 into ACCESS_2) and the
    API (echoes the credentials it got, after refusing each token in `refused` once)."""

    async def token(request: Request) -> Response:
        form = await request.form()
        assert (form["grant_type"], form["refresh_token"]) == ("refresh_token", REFRESH_1)
        body = {"access_token": ACCESS_2, "refresh_token": REFRESH_2, "expires_in": 3600}
        return JSONResponse(body)

    async def api(request: Request) -> Response:
        given = request.headers["authorization"].removeprefix("Bearer ")
        seen.append(given)
        if given in refused:
            refused.discard(given)
            return JSONResponse({"error": f"token {given} expired"}, status_code=401)
        return JSONResponse({"you_sent": given})

    return Starlette(routes=[Route("/token", token, methods=["POST"]), Route("/api/echo", api)])


@pytest.mark.anyio
async def test_a_tool_call_reads_the_grant_once_and_the_users_tokens_are_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A tool call with an MCP token this server issued: the gate reads the user's grant and
    the upstream token comes from that read (one read per call, where there were two). The
    user's upstream tokens, read from the store or obtained by renewal, are masked in the tool
    result and in the log. After a 401 the renewed token is used for the retry."""
    stores: list[CountingStore] = []

    def counting(url: str) -> CountingStore:
        stores.append(CountingStore(url.removeprefix("sqlite:///")))
        return stores[-1]

    monkeypatch.setattr(proxy_module, "open_state", counting)
    seen: list[str] = []
    refused: set[str] = set()
    logged: list[bool] = []

    class LogTheTokens:
        """custom.py hooks logging the user's tokens within the second call, which uses
        all four (a user's tokens are masked in the log lines of the calls that use them)."""

        async def before_call(self, call: ToolCall) -> None:
            return None

        async def after_call(
            self, call: ToolCall, reply: Reply, result: CallToolResult
        ) -> CallToolResult:
            if len(seen) == 3 and not logged:
                logged.append(True)
                logging.getLogger("tests.proxy").warning(
                    "tokens %s %s %s %s", ACCESS_1, REFRESH_1, ACCESS_2, REFRESH_2
                )
            return result

    with (
        net.serve_in_thread(identity_provider_and_api(seen, refused)) as idp,
        echo_behind_proxy(idp, tmp_path, LogTheTokens()) as (base, server),
    ):
        proxy = server.upstream.credentials.user_tokens
        assert isinstance(proxy, OAuthProxy)
        (store,) = stores
        upstream = {"scheme": "oauth", "access_token": ACCESS_1, "refresh_token": REFRESH_1,
                    "expires_at": time.time() + 3600}  # fmt: skip
        grant = {"client_id": "c1", "subject": "alice", "scopes": [], "upstream": upstream}
        await proxy._save_grant("g1", grant)
        token, _ = proxy._access_token("g1", "c1", "alice", [])

        async def call() -> dict[str, Any]:
            before = store.grant_reads
            async with httpx.AsyncClient(trust_env=False, timeout=15) as http:
                result = await call_echo(http, base, token)
            result["grant_reads"] = store.grant_reads - before
            return result

        first = await call()
        assert first["grant_reads"] == 1
        assert seen == [ACCESS_1]
        assert first["structuredContent"] == {"you_sent": MASK}
        refused.add(ACCESS_1)
        second = await call()  # 401, renewed at the provider, retried with the new token
        assert seen == [ACCESS_1, ACCESS_1, ACCESS_2]
        assert second["structuredContent"] == {"you_sent": MASK}
        assert (await proxy._load("grant:g1") or {})["upstream"]["access_token"] == ACCESS_2
        assert logged == [True]
    text = json.dumps([first, second]) + "\n".join(caplog.messages)
    for secret in (ACCESS_1, REFRESH_1, ACCESS_2, REFRESH_2):
        assert secret not in text
    assert f"tokens {MASK} {MASK} {MASK} {MASK}" in caplog.messages


@pytest.mark.anyio
async def test_users_tokens_are_masked_per_call_not_added_to_the_servers_redactor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each user's upstream token is masked in that user's tool result and in the log lines of
    that call, while the server's own redactor (checked against every result and log line)
    keeps the same forms however many users call: redaction does not cost more per user."""
    seen: list[str] = []
    users = [f"user-{n}-access-0123456789abcdef" for n in range(40)]

    class LogTheToken:
        async def before_call(self, call: ToolCall) -> None:
            return None

        async def after_call(
            self, call: ToolCall, reply: Reply, result: CallToolResult
        ) -> CallToolResult:
            logging.getLogger("tests.proxy").warning("called with %s", seen[-1])
            return result

    with (
        net.serve_in_thread(identity_provider_and_api(seen, set())) as idp,
        echo_behind_proxy(idp, tmp_path, LogTheToken()) as (base, server),
    ):
        proxy = server.upstream.credentials.user_tokens
        assert isinstance(proxy, OAuthProxy)
        forms = server.redactor.forms
        results = []
        async with httpx.AsyncClient(trust_env=False, timeout=15) as http:
            for n, access in enumerate(users):
                upstream = {"scheme": "oauth", "access_token": access,
                            "refresh_token": f"user-{n}-refresh-0123456789abcdef",
                            "expires_at": time.time() + 3600}  # fmt: skip
                grant = {"client_id": "c1", "subject": f"u{n}", "scopes": [],
                         "upstream": upstream}  # fmt: skip
                await proxy._save_grant(f"g{n}", grant)
                token, _ = proxy._access_token(f"g{n}", "c1", f"u{n}", [])
                results.append(await call_echo(http, base, token))
        assert server.redactor.forms is forms  # unchanged: no user's token was added
    assert seen == users  # each call went upstream with its user's own token
    assert all(result["structuredContent"] == {"you_sent": MASK} for result in results)
    text = json.dumps(results) + "\n".join(caplog.messages)
    assert not any(access in text for access in users)
    assert caplog.messages.count(f"called with {MASK}") == len(users)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
