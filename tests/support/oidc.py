"""A real authorization server for tests: `oidc-provider` (npm) started on 127.0.0.1.

`authorization_server(...)` starts one (configured by `tests/support/oidc_provider.mjs`) and
yields an `AuthServer`: its issuer URL, and helpers that get real tokens from it over HTTP
(client credentials, the authorization-code flow with PKCE driven headlessly, introspection,
revocation). `signing_keys()` makes an RSA key set, so two servers can share keys (a token from
"another issuer with the same keys") or differ (a "foreign key" with the same `kid`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from . import net, procs
from .node import NODE_MODULES, node_tools

__all__ = [
    "AuthServer",
    "authorization_server",
    "follow_to_redirect",
    "pkce_pair",
    "signing_keys",
]

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")


def signing_keys(kid: str = "test-key-1") -> dict[str, Any]:
    """A private JWK set with one RSA signing key (2048 bits) under `kid`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def follow_to_redirect(
    http: httpx.Client, url: str, redirect_prefix: str, *, max_hops: int = 20
) -> str:
    """GET `url` and follow redirects (keeping cookies) until one points at
    `redirect_prefix`; return that URL (the client's redirect URI with code and state)."""
    for _ in range(max_hops):
        if url.startswith(redirect_prefix):
            return url
        response = http.get(url)
        if response.status_code not in (302, 303, 307):
            raise AssertionError(
                f"expected a redirect from {url}, got {response.status_code}: {response.text[:300]}"
            )
        url = str(response.url.join(response.headers["location"]))
    raise AssertionError(f"no redirect to {redirect_prefix} within {max_hops} hops")


@dataclass
class AuthServer:
    issuer: str
    config: dict[str, Any]
    proc: procs.RunningProcess
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10, trust_env=False))

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/auth"

    def client_credentials(
        self, client_id: str, secret: str, *, resource: str | None = None, scope: str = ""
    ) -> dict[str, Any]:
        """The token response of a client-credentials grant."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        if resource:
            form["resource"] = resource
        response = self.http.post(self.token_endpoint, data=form, auth=(client_id, secret))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def code_flow(
        self,
        client_id: str,
        redirect_uri: str,
        *,
        scope: str,
        resource: str | None = None,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """The authorization-code flow with PKCE, signed in headlessly; the token response."""
        verifier, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "consent",
        }
        if resource:
            query["resource"] = resource
        with httpx.Client(timeout=10, trust_env=False) as browser:
            landed = follow_to_redirect(
                browser, f"{self.authorization_endpoint}?{urlencode(query)}", redirect_uri
            )
        code = parse_qs(urlsplit(landed).query)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        if resource:
            form["resource"] = resource
        if secret:
            response = self.http.post(self.token_endpoint, data=form, auth=(client_id, secret))
        else:
            response = self.http.post(self.token_endpoint, data={**form, "client_id": client_id})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def introspect(self, token: str, client_id: str, secret: str) -> dict[str, Any]:
        response = self.http.post(
            f"{self.issuer}/token/introspection", data={"token": token}, auth=(client_id, secret)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def authorization_server(
    *,
    resources: Mapping[str, Mapping[str, Any]],
    clients: Sequence[Mapping[str, Any]] = (),
    jwks: Mapping[str, Any] | None = None,
    account: str = "alice",
    default_resource: str | None = None,
    refresh_always: bool = False,
    client_credentials_ttl: int = 300,
) -> Iterator[AuthServer]:
    """Start oidc-provider on a free port; stopped on exit.

    `resources`: resource URL → {"scope": "a b", "ttl": seconds, "format": "jwt"|"opaque"}.
    `clients`: oidc-provider client metadata (client_id, client_secret, grant_types,
    redirect_uris, token_endpoint_auth_method...).
    """
    tools = node_tools()
    port = net.free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "issuer": issuer,
        "jwks": dict(jwks or signing_keys()),
        "clients": [dict(c) for c in clients],
        "account": account,
        "resources": {k: dict(v) for k, v in resources.items()},
        "defaultResource": default_resource,
        "refreshAlways": refresh_always,
        "ttl": {"ClientCredentials": client_credentials_ttl},
    }
    env = {
        "OIDC_TEST_CONFIG": json.dumps(config),
        "OIDC_NODE_MODULES": str(NODE_MODULES),
        "NODE_OPTIONS": None,
        "NODE_ENV": "test",
    }
    argv = [str(tools.node), str(SCRIPT)]
    with procs.start_process(
        argv, env=env, ready_url=f"{issuer}/.well-known/openid-configuration", ready_timeout=30
    ) as proc:
        server = AuthServer(issuer, config, proc)
        try:
            yield server
        finally:
            server.http.close()
