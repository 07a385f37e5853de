"""`oauth-proxy` mode: this server is the authorization server its MCP clients see, and an
OAuth client of the API's own identity provider (the flow of Cloudflare's workers-oauth-provider).

1. A client registers: a Client ID Metadata Document (its `client_id` is an HTTPS URL, fetched
   with guards: public addresses only, pinned, 10 KiB, 5 s), a static client
   (`MCP_AUTH_CLIENTS_FILE`), or dynamic registration (RFC 7591) as the fallback, limited per
   client address (`MCP_AUTH_REGISTRATION_LIMIT` an hour, in each replica; 429 beyond it).
2. `/authorize` (PKCE S256, `resource` = `MCP_PUBLIC_URL`, exact redirect URIs) leads to a
   consent screen naming the client, its redirect URI and the scopes. Consent is remembered per
   client and redirect URI in a signed cookie and protected against CSRF; a client the user
   never approved stops there, whatever session the user has at the identity provider.
3. On approval the user signs in at the upstream identity provider (the authorization-code flow
   of the spec's OAuth scheme, PKCE and a single-use `state`). The upstream tokens are stored
   server-side, encrypted with `MCP_STATE_KEY`, and renewed before they expire.
4. The client gets a single-use code, then short-lived access tokens (signed with
   `MCP_STATE_KEY`) and refresh tokens that rotate on every use; reusing a code or an old
   refresh token revokes the whole grant, and so does `/revoke`.
5. Each tool call goes upstream with that user's own upstream token (`credentials.py`), never
   with the MCP token. The upstream tokens (access, refresh, ID) a request obtains or reads from
   the store are masked in that request's tool result and log lines (`redaction.mask_in_call`):
   kept per request, not in the server's redactor, so redaction does not cost more with each
   user who signs in.

State lives in `MCP_STATE_URL` (`state.py`), so replicas sharing a Redis serve the same users.
"""

from __future__ import annotations

import base64
import hashlib
import html
import ipaddress
import json
import logging
import math
import secrets
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import anyio
import httpx
import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl, AnyUrl, PrivateAttr, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import TokenRefusedError
from .config import is_loopback
from .credentials import EARLY_RENEWAL, client_auth_header, parse_scopes
from .definitions import Scheme
from .redaction import mask_in_call
from .state import StateCipher, hashed, open_state, state_keys

if TYPE_CHECKING:
    from .server import ApiServer

__all__ = ["OAuthProxy", "RegistrationLimit"]

logger = logging.getLogger(__name__)

PENDING_TTL = 600  # seconds to finish consent and the upstream sign-in
CODE_TTL = 300
METADATA_MAX_BYTES = 10 * 1024
METADATA_TIMEOUT = 5.0
METADATA_CACHE = 300.0
CONSENT_COOKIE = "mcp_consent"
CSRF_COOKIE = "mcp_csrf"
MAX_REMEMBERED = 50


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _same_resource(given: str, expected: str) -> bool:
    return given.rstrip("/") == expected.rstrip("/")


def _upstream_scheme(server: ApiServer) -> tuple[str, Scheme]:
    for key, scheme in sorted(server.project.schemes.items()):
        if scheme.kind == "oauth2" and (scheme.authorize_url or scheme.discovery_url):
            return key, scheme
    for key, scheme in sorted(server.project.schemes.items()):
        if scheme.kind == "oauth2" and scheme.variable("authorize_url") in (
            server.app_settings.credentials
        ):
            return key, scheme
    raise SystemExit(
        "MCP_AUTH_MODE=oauth-proxy signs users in at the API's own OAuth provider, but this "
        "API declares no OAuth 2 authorization-code flow or OpenID Connect scheme; choose "
        "another MCP_AUTH_MODE"
    )


class _Upstream:
    """The API's identity provider, as this server's OAuth client sees it."""

    def __init__(self, server: ApiServer) -> None:
        self.key, self.scheme = _upstream_scheme(server)
        given = server.app_settings.credentials
        scheme = self.scheme
        self.client_id = given.get(scheme.variable("client_id"), "")
        self.client_secret = given.get(scheme.variable("client_secret"), "")
        if not self.client_id:
            raise SystemExit(
                f"MCP_AUTH_MODE=oauth-proxy needs this server's client at the API's OAuth "
                f"provider: set {scheme.variable('client_id')} and "
                f"{scheme.variable('client_secret')} (register the redirect URI "
                f"<origin of MCP_PUBLIC_URL>/oauth/callback there)"
            )
        self._authorize_url = given.get(scheme.variable("authorize_url")) or scheme.authorize_url
        self._token_url = given.get(scheme.variable("token_url")) or scheme.code_token_url
        raw_scopes = given.get(scheme.variable("scopes"))
        if raw_scopes is not None:
            self.scopes = parse_scopes(raw_scopes)
        else:
            self.scopes = scheme.scopes + (("openid",) if scheme.discovery_url else ())
        self._discovered: dict[str, Any] | None = None
        self._lock = anyio.Lock()

    async def endpoints(self, http: httpx.AsyncClient) -> tuple[str, str]:
        """(authorization URL, token URL), from the spec, overrides or OpenID discovery."""
        if self._authorize_url and self._token_url:
            return self._authorize_url, self._token_url
        async with self._lock:
            if self._discovered is None:
                try:
                    response = await http.get(self.scheme.discovery_url)
                    found = response.json() if response.status_code == 200 else None
                except (httpx.HTTPError, ValueError):
                    found = None
                if not isinstance(found, dict):
                    raise ProviderUnavailableError(
                        "invalid_request", "the identity provider is unreachable"
                    )
                self._discovered = found
        authorize = self._authorize_url or str(self._discovered.get("authorization_endpoint", ""))
        token = self._token_url or str(self._discovered.get("token_endpoint", ""))
        return authorize, token

    def client_auth(self) -> dict[str, str]:
        """HTTP Basic client authentication; none for a public client (no secret)."""
        return client_auth_header(self.client_id, self.client_secret) if self.client_secret else {}


class _UserAccess(AccessToken):
    """An access token this server issued, holding the user's grant as `verify` read it: the
    upstream token of that request's tool call comes from here, so a call reads the grant
    from the store once. Private: never serialized, never shown."""

    _grant: dict[str, Any] | None = PrivateAttr(default=None)


def _subject(tokens: Mapping[str, Any]) -> str:
    """Who signed in upstream: the ID token's `sub` (received straight from the token
    endpoint over TLS, OpenID Connect Core 3.1.3.7), else the access token's when it is a JWT."""
    for name in ("id_token", "access_token"):
        value = tokens.get(name)
        if isinstance(value, str) and value.count(".") == 2:
            try:
                claims = jwt.decode(value, options={"verify_signature": False})
            except jwt.PyJWTError:
                continue
            if isinstance(claims.get("sub"), str) and claims["sub"]:
                return str(claims["sub"])
    return "user-" + secrets.token_hex(8)


class OAuthProxy(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """The authorization server (the SDK's `OAuthAuthorizationServerProvider`), the consent
    screen, the upstream sign-in, the token verifier and the per-user upstream tokens."""

    scoped = True

    def __init__(self, server: ApiServer) -> None:
        settings = server.app_settings
        config = settings.auth
        self.server = server
        self.config = config
        self.public_url = settings.public_url
        parts = urlsplit(settings.public_url)
        self.issuer = f"{parts.scheme}://{parts.netloc}"
        self.secure_cookies = parts.scheme == "https"
        self.cipher = StateCipher(state_keys(config.state_key))
        self.upstream = _Upstream(server)
        self.scopes = sorted(server.all_scopes())
        self.static_clients = self._static_clients(config.clients_file)
        self.store = open_state(config.state_url)
        self.registrations = (
            RegistrationLimit(config.registration_limit) if config.registration_limit else None
        )
        self._http_client: httpx.AsyncClient | None = None
        self._metadata_cache: dict[str, tuple[float, OAuthClientInformationFull]] = {}
        self._refresh_locks: dict[str, anyio.Lock] = {}

    # --- plumbing ---

    def http(self) -> httpx.AsyncClient:
        if self._http_client is None or self._http_client.is_closed:
            self._http_client = httpx.AsyncClient(
                timeout=min(self.server.app_settings.timeout, 15.0), follow_redirects=False
            )
        return self._http_client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()
        await self.store.aclose()

    async def _save(self, key: str, record: Mapping[str, Any], ttl: float | None) -> None:
        blob = self.cipher.encrypt(json.dumps(record).encode(), key)
        await self.store.put(key, blob, ttl)

    def _open(self, key: str, blob: bytes | None) -> dict[str, Any] | None:
        if blob is None:
            return None
        plain = self.cipher.decrypt(blob, key)
        if plain is None:
            logger.warning("a stored record could not be decrypted (another MCP_STATE_KEY?)")
            return None
        found = json.loads(plain)
        return found if isinstance(found, dict) else None

    async def _load(self, key: str) -> dict[str, Any] | None:
        return self._open(key, await self.store.get(key))

    async def _take(self, key: str) -> dict[str, Any] | None:
        return self._open(key, await self.store.take(key))

    # --- clients ---

    def _static_clients(self, path: str) -> dict[str, OAuthClientInformationFull]:
        if not path:
            return {}
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"MCP_AUTH_CLIENTS_FILE: cannot read {path} ({exc})") from None
        if not isinstance(data, list):
            raise SystemExit("MCP_AUTH_CLIENTS_FILE must hold a JSON list of clients")
        clients = {}
        for index, entry in enumerate(data):
            try:
                client = OAuthClientInformationFull.model_validate(
                    {
                        "token_endpoint_auth_method": "client_secret_post"
                        if isinstance(entry, dict) and entry.get("client_secret")
                        else "none",
                        "scope": " ".join(self.scopes) or None,
                        **(entry if isinstance(entry, dict) else {}),
                    }
                )
            except ValidationError as exc:
                raise SystemExit(
                    f"MCP_AUTH_CLIENTS_FILE: client {index}: {exc.errors()[0]['msg']}"
                ) from None
            if not client.redirect_uris:
                raise SystemExit(f"MCP_AUTH_CLIENTS_FILE: client {index} has no redirect_uris")
            clients[client.client_id] = client
        return clients

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if client_id in self.static_clients:
            return self.static_clients[client_id]
        if client_id.startswith("https://"):
            return await self._metadata_document(client_id)
        found = await self._load("client:" + client_id)
        return OAuthClientInformationFull.model_validate(found) if found else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        for uri in client_info.redirect_uris or []:
            _check_redirect_uri(str(uri))
        if client_info.scope is None:
            client_info.scope = " ".join(self.scopes) or None
        await self._save(
            "client:" + client_info.client_id, client_info.model_dump(mode="json"), None
        )
        logger.info("registered a client dynamically (%s)", client_info.client_id)

    async def _metadata_document(self, url: str) -> OAuthClientInformationFull | None:
        """A Client ID Metadata Document: fetched with guards, checked, cached briefly."""
        cached = self._metadata_cache.get(url)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            document = await self._fetch_document(url)
            client = _client_from_document(url, document, self.scopes)
        except _DocumentError as exc:
            logger.info("refused a client metadata document: %s", exc)
            return None
        if len(self._metadata_cache) > 1000:
            self._metadata_cache.clear()
        self._metadata_cache[url] = (time.monotonic() + METADATA_CACHE, client)
        return client

    async def _fetch_document(self, url: str) -> Any:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not host or parts.username or parts.password:
            raise _DocumentError("the client_id must be an https URL without credentials")
        if parts.fragment or parts.path in ("", "/") or "/./" in parts.path or "/../" in parts.path:
            raise _DocumentError("the client_id URL needs a plain path")
        port = parts.port or 443
        try:
            with anyio.fail_after(METADATA_TIMEOUT):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError):
            raise _DocumentError(f"cannot resolve {host}") from None
        addresses = sorted({ipaddress.ip_address(str(info[4][0])) for info in infos}, key=str)
        public = all(a.is_global for a in addresses)
        loopback = self.config.allow_loopback_client_metadata and all(
            a.is_loopback for a in addresses
        )
        if not addresses or not (public or loopback):
            raise _DocumentError(f"{host} resolves to a non-public address")
        address = addresses[0]
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = f"https://{literal}:{port}{parts.path}" + (
            f"?{parts.query}" if parts.query else ""
        )
        body = bytearray()
        try:
            with anyio.fail_after(METADATA_TIMEOUT):
                async with (
                    httpx.AsyncClient(
                        verify=httpx.create_ssl_context(), trust_env=False, follow_redirects=False
                    ) as http,
                    http.stream(
                        "GET",
                        target,
                        headers={"Host": parts.netloc, "Accept": "application/json"},
                        extensions={"sni_hostname": host},
                    ) as response,
                ):
                    if response.status_code != 200:
                        raise _DocumentError(f"HTTP {response.status_code}")
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > METADATA_MAX_BYTES:
                            raise _DocumentError("document larger than 10 KiB")
        except TimeoutError:
            raise _DocumentError("no answer within 5 s") from None
        except httpx.HTTPError as exc:
            raise _DocumentError(f"fetch failed ({type(exc).__name__})") from None
        try:
            return json.loads(body)
        except ValueError:
            raise _DocumentError("not JSON") from None

    # --- authorization ---

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        if params.resource is not None and not _same_resource(params.resource, self.public_url):
            raise AuthorizeError("invalid_target", "this server issues tokens for its own URL only")
        scopes = params.scopes if params.scopes is not None else self.scopes
        unknown = sorted(set(scopes) - set(self.scopes))
        if unknown:
            raise AuthorizeError("invalid_scope", "unknown scope(s): " + " ".join(unknown))
        tx = secrets.token_urlsafe(24)
        await self._save(
            "tx:" + tx,
            {
                "client_id": client.client_id,
                "client_name": client.client_name or "",
                "redirect_uri": str(params.redirect_uri),
                "explicit": params.redirect_uri_provided_explicitly,
                "state": params.state,
                "scopes": sorted(scopes),
                "challenge": params.code_challenge,
            },
            PENDING_TTL,
        )
        return f"{self.issuer}/oauth/consent?{urlencode({'tx': tx})}"

    def _approval_id(self, client_id: str, redirect_uri: str) -> str:
        return _b64url(hashlib.sha256(f"{client_id}\n{redirect_uri}".encode()).digest()[:12])

    def _approvals(self, request: Request) -> list[str]:
        raw = request.cookies.get(CONSENT_COOKIE, "")
        data, _, mac = raw.rpartition(".")
        if not data or not self.cipher.mac_ok("consent:" + data, mac):
            return []
        return [item for item in data.split("~") if item]

    async def consent(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        tx = str(form.get("tx", "")) if form is not None else request.query_params.get("tx", "")
        pending = await self._load("tx:" + tx) if tx else None
        if pending is None:
            return _page(
                400,
                "This authorization request has expired or was already used. "
                "Start again from your MCP client.",
            )
        approval = self._approval_id(pending["client_id"], pending["redirect_uri"])
        approved = self._approvals(request)
        if form is None:
            if approval in approved:
                return await self._to_upstream(tx, pending)
            nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
            response = _consent_page(pending, tx, self.cipher.mac(f"csrf:{tx}:{nonce}"))
            response.set_cookie(
                CSRF_COOKIE,
                nonce,
                httponly=True,
                secure=self.secure_cookies,
                samesite="strict",
                path="/oauth/consent",
            )
            return response
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not nonce or not self.cipher.mac_ok(f"csrf:{tx}:{nonce}", str(form.get("csrf", ""))):
            logger.info("refused a consent form without a valid CSRF token")
            return _page(403, "This consent form could not be verified. Start again.")
        if form.get("decision") != "approve":
            await self.store.delete("tx:" + tx)
            return _redirect_back(pending, error="access_denied", issuer=self.issuer)
        remembered = [approval, *(a for a in approved if a != approval)][:MAX_REMEMBERED]
        data = "~".join(remembered)
        upstream = await self._to_upstream(tx, pending)
        upstream.set_cookie(
            CONSENT_COOKIE,
            f"{data}.{self.cipher.mac('consent:' + data)}",
            max_age=365 * 86400,
            httponly=True,
            secure=self.secure_cookies,
            samesite="lax",
            path="/oauth",
        )
        return upstream

    async def _to_upstream(self, tx: str, pending: Mapping[str, Any]) -> Response:
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        await self._save("up:" + state, {"tx": tx, "verifier": verifier}, PENDING_TTL)
        authorize_url, _ = await self.upstream.endpoints(self.http())
        query = {
            "response_type": "code",
            "client_id": self.upstream.client_id,
            "redirect_uri": f"{self.issuer}/oauth/callback",
            "state": state,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        if self.upstream.scopes:
            query["scope"] = " ".join(self.upstream.scopes)
        separator = "&" if "?" in authorize_url else "?"
        return RedirectResponse(
            authorize_url + separator + urlencode(query), 302, headers={"Cache-Control": "no-store"}
        )

    async def callback(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        started = await self._take("up:" + state) if state else None
        if started is None:
            logger.info("refused an upstream callback with an unknown or used state")
            return _page(400, "This sign-in is unknown, expired or already completed.")
        pending = await self._take("tx:" + started["tx"])
        if pending is None:
            return _page(400, "This authorization request has expired. Start again.")
        code = request.query_params.get("code")
        if not code:
            logger.info("the identity provider returned no code")
            return _redirect_back(pending, error="access_denied", issuer=self.issuer)
        try:
            tokens = await self._upstream_tokens(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": f"{self.issuer}/oauth/callback",
                    "code_verifier": started["verifier"],
                    "client_id": self.upstream.client_id,
                }
            )
        except TokenError as exc:
            logger.warning("the identity provider refused the sign-in: %s", exc.error)
            return _redirect_back(pending, error="server_error", issuer=self.issuer)
        gid = secrets.token_urlsafe(18)
        subject = _subject(tokens)
        await self._save_grant(
            gid,
            {
                "client_id": pending["client_id"],
                "subject": subject,
                "scopes": pending["scopes"],
                "upstream": _upstream_record(self.upstream.key, tokens, {}),
            },
        )
        code_value = secrets.token_urlsafe(32)
        await self._save(
            "code:" + hashed(code_value),
            {**pending, "gid": gid, "subject": subject, "expires_at": time.time() + CODE_TTL},
            CODE_TTL,
        )
        logger.info("user signed in for client %s", pending["client_id"])
        return _redirect_back(pending, code=code_value, issuer=self.issuer)

    async def _upstream_tokens(self, form: Mapping[str, str]) -> dict[str, Any]:
        _, token_url = await self.upstream.endpoints(self.http())
        data = dict(form)
        if self.upstream.client_secret:
            data.pop("client_id", None)
        try:
            response = await self.http().post(
                token_url,
                data=data,
                headers={"Accept": "application/json", **self.upstream.client_auth()},
            )
        except httpx.HTTPError:
            raise ProviderUnavailableError(
                "invalid_grant", "the identity provider did not answer"
            ) from None
        if response.status_code >= 500:
            raise ProviderUnavailableError(
                "invalid_grant", f"the identity provider failed ({response.status_code})"
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise TokenError("invalid_grant", str(error if isinstance(error, str) else "refused"))
        if not isinstance(body.get("access_token"), str):
            raise TokenError("invalid_grant", "no access_token")
        _mask(body)
        return body

    def _usable(self, record: Mapping[str, Any]) -> str:
        """A stored upstream access token, about to be used (and so masked in what this
        request returns and logs)."""
        _mask(record)
        return str(record["access_token"])

    async def _save_grant(self, gid: str, grant: Mapping[str, Any]) -> None:
        await self._save("grant:" + gid, grant, self.config.refresh_ttl)

    # --- tokens ---

    def _access_token(
        self, gid: str, client_id: str, subject: str, scopes: list[str]
    ) -> tuple[str, int]:
        now = int(time.time())
        expires = now + self.config.token_ttl
        claims = {
            "iss": self.issuer,
            "aud": self.public_url,
            "sub": subject,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "gid": gid,
            "iat": now,
            "exp": expires,
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode(
            claims, self.cipher.signing_key, algorithm="HS256", headers={"typ": "at+jwt"}
        )
        return token, expires

    async def _issue(self, gid: str, client_id: str, subject: str, scopes: list[str]) -> OAuthToken:
        access, _ = self._access_token(gid, client_id, subject, scopes)
        refresh = secrets.token_urlsafe(32)
        await self._save(
            "refresh:" + hashed(refresh),
            {"gid": gid, "client_id": client_id, "subject": subject, "scopes": scopes,
             "expires_at": int(time.time()) + self.config.refresh_ttl},
            self.config.refresh_ttl,
        )  # fmt: skip
        return OAuthToken(
            access_token=access,
            expires_in=self.config.token_ttl,
            scope=" ".join(scopes) or None,
            refresh_token=refresh,
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        key = hashed(authorization_code)
        found = await self._load("code:" + key)
        if found is None:
            used = await self._load("code-used:" + key)
            if used is not None:  # a replayed code: the grant it produced is revoked
                logger.warning("an authorization code was used twice; its grant is revoked")
                await self._revoke_grant(used["gid"])
            return None
        return AuthorizationCode(
            code=authorization_code,
            scopes=found["scopes"],
            expires_at=found["expires_at"],
            client_id=found["client_id"],
            code_challenge=found["challenge"],
            redirect_uri=AnyUrl(found["redirect_uri"]),
            redirect_uri_provided_explicitly=found["explicit"],
            resource=self.public_url,
            subject=found["subject"],
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        key = hashed(authorization_code.code)
        found = await self._take("code:" + key)  # single use, even under concurrent requests
        if found is None or found["client_id"] != client.client_id:
            raise TokenError("invalid_grant", "authorization code does not exist")
        await self._save("code-used:" + key, {"gid": found["gid"]}, self.config.refresh_ttl)
        return await self._issue(found["gid"], client.client_id, found["subject"], found["scopes"])

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        key = hashed(refresh_token)
        found = await self._load("refresh:" + key)
        if found is None:
            used = await self._load("refresh-used:" + key)
            if used is not None:  # an old refresh token again: revoke the grant (RFC 9700 4.14)
                logger.warning("a rotated refresh token was used again; its grant is revoked")
                await self._revoke_grant(used["gid"])
            return None
        if await self.store.get("grant:" + found["gid"]) is None:
            return None
        return RefreshToken(
            token=refresh_token,
            client_id=found["client_id"],
            scopes=found["scopes"],
            expires_at=found["expires_at"],
            resource=self.public_url,
            subject=found["subject"],
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        key = hashed(refresh_token.token)
        found = await self._take("refresh:" + key)
        if found is None or found["client_id"] != client.client_id:
            raise TokenError("invalid_grant", "refresh token does not exist")
        await self._save("refresh-used:" + key, {"gid": found["gid"]}, self.config.refresh_ttl)
        grant = await self._load("grant:" + found["gid"])
        if grant is None:
            raise TokenError("invalid_grant", "the grant was revoked")
        await self._save_grant(found["gid"], grant)  # extend its life with the new token's
        return await self._issue(found["gid"], client.client_id, found["subject"], sorted(scopes))

    async def _decode(self, token: str) -> dict[str, Any]:
        for key in self.cipher.verification_keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=["HS256"],
                    audience=self.public_url,
                    issuer=self.issuer,
                    options={"require": ["exp", "gid", "sub", "client_id"]},
                )
            except jwt.ExpiredSignatureError:
                raise TokenRefusedError("token expired") from None
            except jwt.InvalidAudienceError:
                raise TokenRefusedError("token issued for another resource") from None
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                raise TokenRefusedError("invalid token") from None
            return claims
        raise TokenRefusedError("invalid token")

    async def verify(self, token: str) -> AccessToken:
        """The gate's check of an access token this server issued: signature, expiry,
        audience, and a grant that still exists (revocation ends it at once)."""
        claims = await self._decode(token)
        grant = await self._load("grant:" + str(claims["gid"]))
        if grant is None:
            raise TokenRefusedError("token revoked")
        access = _UserAccess(
            token=token,
            client_id=str(claims["client_id"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.public_url,
            subject=str(claims["sub"]),
            claims={"iss": self.issuer, "gid": claims["gid"]},
        )
        access._grant = grant
        return access

    async def load_access_token(self, token: str) -> AccessToken | None:
        try:
            return await self.verify(token)
        except TokenRefusedError:
            return None

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        if isinstance(token, AccessToken):
            gid = (token.claims or {}).get("gid")
        else:
            found = await self._load("refresh:" + hashed(token.token))
            gid = found["gid"] if found else None
        if isinstance(gid, str):
            await self._revoke_grant(gid)

    async def _revoke_grant(self, gid: str) -> None:
        await self.store.delete("grant:" + gid)
        logger.info("revoked a grant")

    # --- per-user upstream tokens (credentials.UserTokens) ---

    def has_user(self) -> bool:
        access = get_access_token()
        return access is not None and isinstance((access.claims or {}).get("gid"), str)

    async def upstream_token(self, scheme: str, *, renew: bool = False) -> str | None:
        access = get_access_token()
        gid = (access.claims or {}).get("gid") if access is not None else None
        if not isinstance(gid, str) or scheme != self.upstream.key:
            return None
        held = access._grant if isinstance(access, _UserAccess) else None
        grant = held if held is not None else await self._load("grant:" + gid)
        if grant is None:
            return None
        record = grant["upstream"]
        _mask(record)  # its refresh token may be sent for a renewal
        if not renew and not _expiring(record):
            return self._usable(record)
        lock = self._refresh_locks.setdefault(gid, anyio.Lock())
        async with lock:
            latest = await self._load("grant:" + gid)
            if latest is None:
                renewed = None
            elif latest["upstream"]["access_token"] != record["access_token"] and not _expiring(
                latest["upstream"]
            ):
                renewed = self._usable(latest["upstream"])  # renewed meanwhile
            else:
                renewed = await self._renew_upstream(gid, latest)
        self._refresh_locks.pop(gid, None)
        if isinstance(access, _UserAccess):  # a retry in this request uses what is now stored
            current = latest is not None and latest["upstream"]["access_token"] == renewed
            access._grant = latest if current else None
        return renewed

    async def _renew_upstream(self, gid: str, grant: dict[str, Any]) -> str | None:
        record = grant["upstream"]
        refresh = record.get("refresh_token")
        if not isinstance(refresh, str):
            return None if _expired(record) else self._usable(record)
        if not await self.store.put("lock:renew:" + gid, b"1", 30, only_new=True):
            for _ in range(100):  # another replica renews it: wait for its result
                await anyio.sleep(0.1)
                latest = await self._load("grant:" + gid)
                if latest is None:
                    return None
                if latest["upstream"]["access_token"] != record["access_token"]:
                    return self._usable(latest["upstream"])
            return None
        try:
            tokens = await self._upstream_tokens(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                    "client_id": self.upstream.client_id,
                }
            )
        except ProviderUnavailableError as exc:
            logger.warning(
                "the identity provider could not renew a user's token now (%s); the grant is kept",
                exc.error_description,
            )
            return None
        except TokenError as exc:
            logger.warning("the identity provider refused to renew a user's token: %s", exc.error)
            await self._revoke_grant(gid)
            return None
        finally:
            await self.store.delete("lock:renew:" + gid)
        grant["upstream"] = _upstream_record(self.upstream.key, tokens, record)
        await self._save_grant(gid, grant)
        logger.info("renewed a user's upstream token")
        return str(tokens["access_token"])

    # --- routes ---

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 authorization server metadata."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "registration_endpoint": f"{self.issuer}/register",
            "revocation_endpoint": f"{self.issuer}/revoke",
            "scopes_supported": self.scopes,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post", "client_secret_basic", "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_post", "client_secret_basic", "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "client_id_metadata_document_supported": True,
            "authorization_response_iss_parameter_supported": True,
        }  # fmt: skip

    def routes(self) -> list[Route]:
        """The authorization server's endpoints: the SDK's /authorize, /token, /register and
        /revoke on this provider, plus metadata, the consent screen and the upstream callback."""
        body = json.dumps(self.metadata())

        async def metadata(request: Request) -> Response:
            return Response(
                body,
                media_type="application/json",
                headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=3600"},
            )

        sdk = create_auth_routes(
            provider=self,
            issuer_url=AnyHttpUrl(self.issuer),
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=self.scopes or None, default_scopes=self.scopes or None
            ),
            revocation_options=RevocationOptions(enabled=True),
        )
        kept = [
            _limited(r, self.registrations) if r.path == "/register" else r
            for r in sdk
            if r.path != "/.well-known/oauth-authorization-server"
        ]
        return [
            Route("/.well-known/oauth-authorization-server", metadata, methods=["GET", "OPTIONS"]),
            Route("/oauth/consent", self.consent, methods=["GET", "POST"]),
            Route("/oauth/callback", self.callback, methods=["GET"]),
            *kept,
        ]


class RegistrationLimit:
    """Dynamic registrations per client address: a token bucket per address holding
    `per_hour` registrations and refilled at `per_hour` an hour. At most `max_addresses` are
    tracked: past that, a new address makes the one that registered least recently forgotten
    (its bucket has had the longest to refill), in constant time."""

    def __init__(self, per_hour: int, max_addresses: int = 10_000) -> None:
        self.capacity = float(per_hour)
        self.rate = per_hour / 3600.0  # registrations per second
        self.max_addresses = max_addresses
        # address → (left, when), least recently registered first
        self._buckets: dict[str, tuple[float, float]] = {}

    def _left(self, address: str, now: float) -> float:
        left, when = self._buckets.get(address, (self.capacity, now))
        return min(self.capacity, left + (now - when) * self.rate)

    def take(self, address: str, now: float) -> float:
        """0 when `address` may register now (and that registration is counted); otherwise
        the seconds until it may."""
        left = self._left(address, now)
        if left < 1:
            return (1 - left) / self.rate
        if self._buckets.pop(address, None) is None:
            while len(self._buckets) >= self.max_addresses:
                del self._buckets[next(iter(self._buckets))]
        self._buckets[address] = (left - 1, now)  # now the most recent
        return 0.0


def _limited(route: Route, limit: RegistrationLimit | None) -> Route:
    """The SDK's /register route behind `limit` (unchanged without one)."""
    if limit is None:
        return route
    return Route(route.path, _Registrations(route.app, limit), methods=sorted(route.methods or ()))


class _Registrations:
    """ASGI: a registration (POST) from an address over its limit gets 429 with Retry-After."""

    def __init__(self, app: ASGIApp, limit: RegistrationLimit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            client = scope.get("client")
            address = str(client[0]) if client else ""
            wait = self.limit.take(address, time.monotonic())
            if wait > 0:
                seconds = math.ceil(wait)
                logger.warning("refused a client registration from %s: over the limit", address)
                response = JSONResponse(
                    {
                        "error": "too_many_requests",
                        "error_description": "too many client registrations from this "
                        f"address; retry in {seconds} s",
                    },
                    429,
                    headers={
                        "Retry-After": str(seconds),
                        "Cache-Control": "no-store",
                        "Access-Control-Allow-Origin": "*",
                        "Access-Control-Expose-Headers": "Retry-After",
                    },
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ProviderUnavailableError(TokenError):
    """The identity provider could not be reached, or failed (5xx, discovery): a passing
    fault, so a user's grant is kept, unlike when the provider refuses (4xx)."""


class _DocumentError(Exception):
    pass


def _client_from_document(url: str, document: Any, scopes: list[str]) -> OAuthClientInformationFull:
    if not isinstance(document, dict):
        raise _DocumentError("not a JSON object")
    if document.get("client_id") != url:
        raise _DocumentError("its client_id is not its own URL")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise _DocumentError("a metadata document must not carry a client secret")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise _DocumentError(f"token_endpoint_auth_method {str(method)[:32]!r} is not supported")
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        raise _DocumentError("no redirect_uris")
    for uri in uris:
        _check_redirect_uri(str(uri))
    try:
        return OAuthClientInformationFull.model_validate(
            {
                "client_id": url,
                "redirect_uris": uris,
                "client_name": document.get("client_name"),
                "client_uri": document.get("client_uri"),
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": " ".join(scopes) or None,
            }
        )
    except ValidationError:
        raise _DocumentError("invalid client metadata") from None


def _check_redirect_uri(uri: str) -> None:
    """https anywhere; http only to this machine (native apps); a private-use scheme (reverse
    domain, as RFC 8252 7.1 asks) for apps; nothing with a fragment."""
    parts = urlsplit(uri)
    if parts.fragment:
        raise RegistrationError("invalid_redirect_uri", "a redirect URI cannot have a fragment")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    if "." in parts.scheme and parts.scheme not in ("http", "https", "javascript", "data"):
        return
    raise RegistrationError(
        "invalid_redirect_uri", "redirect URIs must be https, http on loopback, or an app scheme"
    )


def _mask(tokens: Mapping[str, Any]) -> None:
    """Mask the upstream tokens of a token response or a stored record in this request."""
    found = [tokens.get(name) for name in ("access_token", "refresh_token", "id_token")]
    mask_in_call(*(value for value in found if isinstance(value, str)))


def _upstream_record(
    scheme: str, tokens: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, Any]:
    lifetime = tokens.get("expires_in")
    expires = time.time() + float(lifetime) if isinstance(lifetime, int | float) else None
    return {
        "scheme": scheme,
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token") or previous.get("refresh_token"),
        "expires_at": expires,
    }


def _expiring(record: Mapping[str, Any]) -> bool:
    expires = record.get("expires_at")
    return isinstance(expires, int | float) and expires - EARLY_RENEWAL < time.time()


def _expired(record: Mapping[str, Any]) -> bool:
    expires = record.get("expires_at")
    return isinstance(expires, int | float) and expires < time.time()


def _redirect_back(
    pending: Mapping[str, Any], *, issuer: str, code: str | None = None, error: str | None = None
) -> Response:
    url = construct_redirect_uri(
        pending["redirect_uri"], code=code, error=error, state=pending.get("state"), iss=issuer
    )
    return RedirectResponse(url, 302, headers={"Cache-Control": "no-store"})


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f3f3f3;padding:.1rem .3rem;word-break:break-all}"
    "button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}"
)


def _page(status: int, message: str) -> HTMLResponse:
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Authorization</title>"
        f"<style>{_STYLE}</style></head><body><p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(text, status, headers=_PAGE_HEADERS)


def _consent_page(pending: Mapping[str, Any], tx: str, csrf: str) -> HTMLResponse:
    """Everything the client supplied (name, ID, redirect URI) is untrusted: escaped, and the
    name marked as the client's own claim."""
    e = html.escape
    name = pending["client_name"] or "An unnamed application"
    scopes = "".join(f"<li><code>{e(s)}</code></li>" for s in pending["scopes"])
    text = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Authorize access</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Authorize {e(name)}?</h1>"
        "<p>An application that calls itself <strong>"
        f"{e(name)}</strong> asks to use this server's tools on your behalf.</p>"
        f"<p>Client ID: <code>{e(pending['client_id'])}</code></p>"
        f"<p>After you approve, you will be sent to: <code>{e(pending['redirect_uri'])}</code></p>"
        + (f"<p>Access requested:</p><ul>{scopes}</ul>" if scopes else "")
        + "<p>Only approve if you started this from an application you trust. Next, you "
        "sign in with the API's own provider.</p>"
        "<form method='post' action='/oauth/consent'>"
        f"<input type='hidden' name='tx' value='{e(tx)}'>"
        f"<input type='hidden' name='csrf' value='{e(csrf)}'>"
        "<button type='submit' name='decision' value='approve'>Approve</button>"
        "<button type='submit' name='decision' value='deny'>Deny</button>"
        "</form></body></html>"
    )
    return HTMLResponse(text, 200, headers=_PAGE_HEADERS)
