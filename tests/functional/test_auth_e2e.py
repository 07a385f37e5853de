"""Auth end to end on a generated project (the tasks example, whose API declares an OAuth
scheme with scopes): generated with the real CLI, pip-installed, started as processes.

- `oauth`: the MCP Inspector CLI, holding a token from a real authorization server
  (oidc-provider), calls a tool; without it, it is refused.
- `oauth-proxy` on two replicas sharing a real Valkey server behind Caddy (round robin),
  with a second oidc-provider as the API's identity provider: the official SDK client signs in
  (dynamic registration, consent, upstream sign-in), tool calls reach the API with the user's
  upstream token and never the MCP token, a token from one replica works on the other, the
  upstream token is renewed after a 401, the MCP refresh token rotates, revocation ends access,
  and a client the user never approved stops at the consent screen although the user's session
  at the identity provider is still valid.
- The secret scan: every log line and tool result of the run is free of every token and secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx
import httpx2
import jwt
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientMetadata,
)
from pydantic import AnyUrl
from starlette.types import Receive, Scope, Send

from specs.tasks import upstream as tasks
from tests.support import mcpclient, net, node, procs, project
from tests.support.cluster import cluster
from tests.support.mcpclient import MemoryTokens, call_with_auth, code_of
from tests.support.oidc import AuthServer, authorization_server
from tests.support.redis import redis_server
from tests.support.secrets import SecretScan

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.node
API = "http://127.0.0.1:9/tasks-api"  # the audience the identity provider gives API tokens
STATE_KEY = "state-key-for-tests-0123456789abcdef"
IDP_SECRET = "idp-client-secret-0123456789"
M2M_SECRET = "m2m-secret-0123456789abcdef"
REDIRECT = "http://127.0.0.1:1/callback"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("auth")
    generated = project.generate(
        ROOT / "specs/tasks/openapi.json",
        work / "project",
        "--name",
        "tasks",
        "-m",
        str(ROOT / "specs/tasks/mcpgen.yaml"),
    )
    return project.pip_install(generated, work / "site")


@dataclass
class Upstream:
    """The tasks example API behind a check of the identity provider's tokens: a call must
    carry a token the provider issued for the API (checked with its keys), which is then
    swapped for the example's own token. Records what arrived; can refuse a token once."""

    idp: AuthServer | None = None
    seen: list[str] = field(default_factory=list)
    refuse_once: set[str] = field(default_factory=set)

    def app(self) -> Any:
        inner, _ = tasks.create_app()

        async def check(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and self.idp is not None:
                headers = dict(scope["headers"])
                token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
                self.seen.append(token)
                if token in self.refuse_once or not self._valid(token):
                    self.refuse_once.discard(token)
                    await _json(send, 401, {"detail": "invalid token"})
                    return
                headers[b"authorization"] = f"Bearer {tasks.DEFAULT_TOKEN}".encode()
                scope = {**scope, "headers": list(headers.items())}
            await inner(scope, receive, send)

        return check

    def _valid(self, token: str) -> bool:
        assert self.idp is not None
        public = jwt.PyJWK(self.idp.config["jwks"]["keys"][0]).key.public_key()
        try:
            jwt.decode(token, public, algorithms=["RS256"], audience=API, issuer=self.idp.issuer)
        except jwt.PyJWTError:
            return False
        return True


async def _json(send: Send, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _server_argv(site: Path) -> Any:
    return lambda port: [
        str(site / "bin" / "tasks-mcp"),
        "--transport",
        "http",
        "--port",
        str(port),
    ]


# --- oauth: the Inspector holding a real token ------------------------------------------


def test_the_inspector_calls_a_tool_with_a_token_from_the_authorization_server(
    site: Path,
) -> None:
    port = net.free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    client = {
        "client_id": "m2m",
        "client_secret": M2M_SECRET,
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "response_types": [],
    }
    with (
        authorization_server(
            resources={url: {"scope": "tasks:read tasks:write"}}, clients=[client]
        ) as idp,
        net.serve_in_thread(Upstream().app()) as upstream,
    ):
        env = {
            "PYTHONPATH": str(site),
            "MCP_AUTH_MODE": "oauth",
            "MCP_PUBLIC_URL": url,
            "MCP_AUTH_ISSUER": idp.issuer,
            "UPSTREAM_BASE_URL": upstream,
            "UPSTREAM_BEARER_TOKEN": tasks.DEFAULT_TOKEN,
        }
        with procs.start_process(
            [str(site / "bin" / "tasks-mcp"), "--transport", "http"],
            env={**env, "MCP_PORT": str(port)},
            ready_url=f"http://127.0.0.1:{port}/healthz",
            ready_timeout=60,
        ) as server:
            token = idp.client_credentials("m2m", M2M_SECRET, resource=url, scope="tasks:read")
            access = token["access_token"]
            args = ["--method", "tools/call", "--tool-name", "list_tasks"]
            args += ["--tool-arg", "project_id=p1", "--format", "json", "-q"]
            done = node.inspector_cli(url, *args, "--header", f"Authorization: Bearer {access}")
            assert done.returncode == 0, done.stderr + done.stdout
            result = json.loads(done.stdout)
            assert not result.get("isError"), result
            refused = node.inspector_cli(url, *args)
            assert refused.returncode != 0
            writer = node.inspector_cli(
                url,
                "--method", "tools/call", "--tool-name", "delete_task",
                "--tool-arg", "task_id=t1", "--format", "json", "-q",
                "--header", f"Authorization: Bearer {access}",
            )  # fmt: skip
            assert writer.returncode != 0  # tasks:read does not reach a tasks:write tool
            scan = SecretScan()
            scan.add(access, M2M_SECRET, tasks.DEFAULT_TOKEN)
            scan.check([server.stderr(), server.stdout(), done.stdout], "the oauth-mode run")


# --- oauth-proxy on two replicas --------------------------------------------------------


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[str(found["name"])] = str(found.get("value") or "")


class Browser:
    """The user: one cookie jar; follows redirects, approves the consent screen when asked."""

    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri
        self.http = httpx.Client(timeout=15, trust_env=False)
        self.landed = ""
        self.pages: list[str] = []
        self.approved = 0
        self.codes: set[str] = set()  # authorization codes seen in redirects (both legs)

    def visit(self, url: str, *, approve: bool = True) -> httpx.Response | str:
        """Follow `url` to the client's redirect URI (returned), or stop at a consent screen
        when `approve` is False (the page's response is returned)."""
        for _ in range(25):
            self.codes.update(parse_qs(urlsplit(url).query).get("code", []))
            if url.startswith(self.redirect_uri):
                return url
            response = self.http.get(url)
            if response.status_code == 200 and "/oauth/consent" in response.text:
                self.pages.append(response.text)
                if not approve:
                    return response
                form = _Form()
                form.feed(response.text)
                self.approved += 1
                response = self.http.post(
                    str(response.url.join("/oauth/consent")),
                    data={**form.fields, "decision": "approve"},
                )
            assert response.status_code in (302, 303), (response.status_code, response.text[:300])
            url = str(response.url.join(response.headers["location"]))
        raise AssertionError("too many redirects")

    async def redirect(self, url: str) -> None:
        landed = await anyio.to_thread.run_sync(self.visit, url)
        assert isinstance(landed, str)
        self.landed = landed

    async def callback(self) -> AuthorizationCodeResult:
        return code_of(self.landed)


async def _signed_in_call(url: str, auth: httpx2.Auth) -> tuple[list[str], str]:
    names, result = await call_with_auth(url, auth, "list_tasks", {"project_id": "p1"})
    assert not result.is_error, mcpclient.text_of(result)
    return names, mcpclient.text_of(result)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_oauth_proxy_end_to_end_on_two_replicas_sharing_valkey(site: Path, tmp_path: Path) -> None:
    lb_port = net.free_port()
    origin = f"http://127.0.0.1:{lb_port}"
    public = origin + "/mcp"
    idp_client = {
        "client_id": "mcp-server",
        "client_secret": IDP_SECRET,
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [origin + "/oauth/callback"],
    }
    upstream = Upstream()
    scan = SecretScan()
    scan.add(STATE_KEY, IDP_SECRET, tasks.DEFAULT_TOKEN)
    with (
        redis_server() as state_url,
        authorization_server(
            resources={API: {"scope": "tasks:read tasks:write"}},
            clients=[idp_client],
            default_resource=API,
            refresh_always=True,
        ) as idp,
        net.serve_in_thread(upstream.app()) as api,
    ):
        upstream.idp = idp
        env = {
            "PYTHONPATH": str(site),
            "MCP_AUTH_MODE": "oauth-proxy",
            "MCP_PUBLIC_URL": public,
            "MCP_STATE_URL": state_url,
            "MCP_STATE_KEY": STATE_KEY,
            "UPSTREAM_BASE_URL": api,
            "UPSTREAM_OAUTH_CLIENT_ID": "mcp-server",
            "UPSTREAM_OAUTH_CLIENT_SECRET": IDP_SECRET,
            "UPSTREAM_OAUTH_AUTHORIZE_URL": idp.authorization_endpoint,
            "UPSTREAM_OAUTH_TOKEN_URL": idp.token_endpoint,
            "UPSTREAM_OAUTH_SCOPES": "openid tasks:read tasks:write",
        }
        with cluster(_server_argv(site), env=env, workdir=tmp_path, front=lb_port) as front:
            first, second = front.replicas
            outputs = _proxy_flow(public, origin, first.base, second.base, upstream, idp, scan)
            logs = [r.process.stderr() + r.process.stdout() for r in front.replicas if r.process]
            scan.check([*logs, *outputs], "the replicas' logs and the tool results")


def _proxy_flow(
    public: str,
    origin: str,
    first: str,
    second: str,
    upstream: Upstream,
    idp: AuthServer,
    scan: SecretScan,
) -> list[str]:
    browser = Browser(REDIRECT)
    storage = MemoryTokens()
    provider = OAuthClientProvider(
        server_url=public,
        client_metadata=OAuthClientMetadata(
            redirect_uris=[AnyUrl(REDIRECT)],
            client_name="Desktop client",
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="client_secret_post",
        ),
        storage=storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
    )
    # the whole sign-in, through Caddy (so it alternates between the replicas)
    names, text = anyio.run(_signed_in_call, public, provider)
    assert browser.approved == 1 and "Desktop client" in browser.pages[0]
    assert names == ["create_project", "list_tasks", "create_task", "delete_task", "update_task"]
    outputs = [text]
    tokens, client = storage.tokens, storage.client
    assert tokens is not None and tokens.refresh_token and client is not None
    assert client.client_secret is not None
    scan.add(tokens.access_token, tokens.refresh_token, client.client_secret)
    # the API saw the user's own upstream token, never the MCP token
    assert upstream.seen and tokens.access_token not in upstream.seen
    for seen in upstream.seen:
        claims = jwt.decode(seen, options={"verify_signature": False})
        assert (claims["iss"], claims["sub"], claims["aud"]) == (idp.issuer, "alice", API)
    scan.add(*upstream.seen)
    # a token issued through one replica works on each
    for replica in (first, second):
        listed = mcpclient.list_tools_sync(replica + "/mcp", headers=_bearer(tokens.access_token))
        assert [t.name for t in listed] == names
    # the upstream refuses the user's token once: the server renews it at the provider
    stale = upstream.seen[-1]
    upstream.refuse_once.add(stale)
    before = len(upstream.seen)
    result = mcpclient.call_tool_sync(
        second + "/mcp", "list_tasks", {"project_id": "p1"}, headers=_bearer(tokens.access_token)
    )
    assert not result.is_error, mcpclient.text_of(result)
    outputs.append(mcpclient.text_of(result))
    renewed = upstream.seen[before:]
    assert renewed[0] == stale and renewed[-1] != stale and len(renewed) == 2
    scan.add(*renewed)
    _refresh_revoke_and_consent(origin, public, (first, second), browser, storage, idp, scan)
    assert len(browser.codes) == 2  # the provider's code to this server, and this server's
    scan.add(*browser.codes)
    return outputs


def _refresh_revoke_and_consent(
    origin: str,
    public: str,
    replicas: tuple[str, str],
    browser: Browser,
    storage: MemoryTokens,
    idp: AuthServer,
    scan: SecretScan,
) -> None:
    tokens, client = storage.tokens, storage.client
    assert tokens is not None and tokens.refresh_token and client is not None
    assert client.client_secret is not None
    # the MCP refresh token rotates
    http = httpx.Client(timeout=15, trust_env=False)
    form = {"client_id": client.client_id, "client_secret": client.client_secret}
    refreshed = http.post(
        origin + "/token",
        data={**form, "grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    scan.add(new["access_token"], new["refresh_token"])
    assert new["refresh_token"] != tokens.refresh_token
    listed = mcpclient.list_tools_sync(replicas[0] + "/mcp", headers=_bearer(new["access_token"]))
    assert len(listed) == 5
    # revocation ends access at once, on every replica
    revoked = http.post(origin + "/revoke", data={**form, "token": new["access_token"]})
    assert revoked.status_code == 200
    for replica in replicas:
        refused = http.post(
            replica + "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={
                **_bearer(new["access_token"]),
                "Accept": "application/json, text/event-stream",
            },
        )
        assert refused.status_code == 401 and "revoked" in refused.headers["www-authenticate"]
    # a second client, never approved, stops at the consent screen although the user's
    # session at the identity provider (and the first client's consent) is still there
    registered = http.post(
        origin + "/register",
        json={
            "redirect_uris": [REDIRECT],
            "client_name": "<script>alert(1)</script> Evil",
            "token_endpoint_auth_method": "none",
        },
    )
    assert registered.status_code == 201, registered.text
    query = {
        "response_type": "code",
        "client_id": registered.json()["client_id"],
        "redirect_uri": REDIRECT,
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "state": "s1",
        "resource": public,
    }
    stopped = browser.visit(f"{origin}/authorize?{urlencode(query)}", approve=False)
    assert isinstance(stopped, httpx.Response) and stopped.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Evil" in stopped.text
    assert "<script>" not in stopped.text
    assert any(c.name == "_session" for c in browser.http.cookies.jar)  # the IdP session
    # the first client's consent is remembered: straight on to the identity provider
    again = {**query, "client_id": client.client_id}
    consent = browser.http.get(f"{origin}/authorize?{urlencode(again)}")
    consent = browser.http.get(str(consent.url.join(consent.headers["location"])))
    assert consent.status_code == 302
    assert consent.headers["location"].startswith(idp.authorization_endpoint)
    assert parse_qs(urlsplit(consent.headers["location"]).query)["client_id"] == ["mcp-server"]
    http.close()
