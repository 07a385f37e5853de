"""Auth end to end on a generated project (the tasks example, whose API declares an OAuth
scheme with scopes): generated with the real CLI, pip-installed, started as processes.

- `oauth`: the MCP Inspector CLI, holding a token from a real authorization server
  (oidc-provider), calls a tool; without it, it is refused.
- `oauth-proxy` on two replicas sharing a real Valkey server behind a round-robin forwarder,
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
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.types import Receive, Scope, Send

from specs.tasks import upstream as tasks
from tests.support import net, node, procs, project
from tests.support.oidc import AuthServer, authorization_server
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
        keys = jwt.PyJWKSet.from_dict(self.idp.config["jwks"])
        try:
            jwt.decode(
                token, keys.keys[0], algorithms=["RS256"], audience=API, issuer=self.idp.issuer
            )
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
    return lambda port: [str(site / "bin" / "tasks-mcp"), "--transport", "http"]


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
