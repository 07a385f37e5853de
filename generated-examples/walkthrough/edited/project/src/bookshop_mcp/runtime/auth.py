"""Who may call the server over HTTP: `MCP_AUTH_MODE` and what each mode checks.

- `none`: no check. Allowed only when the server listens on a loopback address, unless
  `MCP_ALLOW_UNAUTHENTICATED=true` says an open server is intended (a private network behind
  another auth layer).
- `bearer`: static tokens (`MCP_BEARER_TOKENS`, `MCP_BEARER_TOKENS_FILE`), compared in constant
  time. A static token grants every tool.
- `oauth`: an OAuth 2.1 resource server. JWT access tokens are checked against the issuer's
  keys (`MCP_AUTH_JWKS_URL`, or discovered from `MCP_AUTH_ISSUER` through RFC 8414 / OpenID
  metadata): signature with an algorithm from the allow-list, issuer, expiry (with
  `MCP_AUTH_LEEWAY`), and audience = `MCP_PUBLIC_URL` (RFC 8707). Opaque tokens are checked by
  RFC 7662 introspection when `MCP_AUTH_CLIENT_ID` and `MCP_AUTH_CLIENT_SECRET` are set.
- `oauth-proxy`: the server is itself the authorization server its clients see (`proxy.py`).

In the oauth modes, protected-resource metadata (RFC 9728) is served at both the path-suffixed
and the root well-known path; a request without a valid token gets 401 with
`WWW-Authenticate: Bearer resource_metadata="…", scope="…"`; a call to a tool whose scopes the
token lacks gets 403 `insufficient_scope` naming them, and tools/list shows only the tools the
caller's scopes allow. When the authorization server cannot be asked (its keys, metadata or
introspection endpoint unreachable, or answering 5xx), the caller's token may well be valid: the
answer is 503 with `Retry-After`, not 401. Nothing here logs or returns a token.

PyJWT is imported only where tokens are checked (the oauth modes), not at start-up.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import anyio
import httpx
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import AuthConfig, Settings, is_loopback
from .credentials import client_auth_header
from .limits import buffered_body

if TYPE_CHECKING:
    import jwt
    from starlette.applications import Starlette

    from .server import ApiServer

__all__ = [
    "RETRY_AFTER",
    "AuthGate",
    "AuthServerUnavailableError",
    "Introspection",
    "JwksCache",
    "JwtVerifier",
    "OAuthVerifier",
    "StaticTokens",
    "TokenRefusedError",
    "Verifier",
    "caller_scopes",
    "check_listen_address",
    "install_auth",
    "jsonrpc_calls",
    "metadata_paths",
    "protected_resource_metadata",
]

logger = logging.getLogger(__name__)

# The caller's scopes for this request: None when no scope applies (auth off, static tokens).
_caller_scopes: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar(
    "mcp_caller_scopes", default=None
)


def caller_scopes() -> frozenset[str] | None:
    """The scopes granted to the caller of the current request; None when scopes do not
    apply (no auth, static bearer tokens, stdio)."""
    return _caller_scopes.get()


RETRY_AFTER = 5  # seconds: how long an unreachable authorization server is left alone


class TokenRefusedError(Exception):
    """A token was refused; the message says why in words safe to log and to return."""


class AuthServerUnavailableError(Exception):
    """The authorization server could not be asked (the connection failed or it answered
    5xx), so the token could not be checked: a passing fault, answered 503, not 401. The
    message says what failed in words safe to log and to return."""


def _unavailable(response: httpx.Response) -> bool:
    return response.status_code >= 500


class Verifier(Protocol):
    async def verify(self, token: str) -> AccessToken:
        """The token's grant; raises TokenRefusedError for every bad token."""
        ...

    @property
    def scoped(self) -> bool:
        """True when tokens carry scopes that limit which tools a caller may use."""
        ...


def check_listen_address(settings: Settings) -> None:
    """Refuse to serve without auth on a non-loopback address unless that is intended."""
    auth = settings.auth
    if auth.mode == "none" and not is_loopback(settings.host) and not auth.allow_unauthenticated:
        raise SystemExit(
            f"refusing to serve without authentication on {settings.host}: anyone who can "
            "reach this address could use the API's credentials. Set MCP_AUTH_MODE (bearer, "
            "oauth or oauth-proxy), or set MCP_ALLOW_UNAUTHENTICATED=true if another layer "
            "authenticates callers"
        )


# --- static tokens ---------------------------------------------------------------------------


class StaticTokens:
    """`bearer` mode: every configured token is compared, in constant time, on every request."""

    scoped = False

    def __init__(self, tokens: Iterable[str]) -> None:
        self._digests = [hashlib.sha256(t.encode()).digest() for t in tokens]

    async def verify(self, token: str) -> AccessToken:
        given = hashlib.sha256(token.encode()).digest()
        found = -1
        for index, digest in enumerate(self._digests):  # no early exit: same time for all
            if hmac.compare_digest(given, digest):
                found = index
        if found < 0:
            raise TokenRefusedError("unknown token")
        return AccessToken(
            token=token, client_id=f"static-{found + 1}", scopes=[], subject=f"static-{found + 1}"
        )


# --- JWT access tokens -----------------------------------------------------------------------


def _metadata_urls(issuer: str) -> list[str]:
    """RFC 8414 (path inserted after the host) then OpenID Connect discovery URLs."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]


class IssuerMetadata:
    """The authorization server's metadata, fetched once (and again after a failure)."""

    def __init__(self, issuer: str, http: Callable[[], httpx.AsyncClient]) -> None:
        self.issuer = issuer
        self._http = http
        self._found: dict[str, Any] | None = None
        self._down_until = 0.0  # after a failed discovery, not asked again before this
        self._lock = anyio.Lock()

    async def get(self) -> dict[str, Any]:
        if self._found is not None:
            return self._found
        async with self._lock:
            if self._found is None:
                if time.monotonic() < self._down_until:
                    raise AuthServerUnavailableError("the authorization server is unreachable")
                try:
                    self._found = await self._discover()
                except AuthServerUnavailableError:
                    self._down_until = time.monotonic() + RETRY_AFTER
                    raise
            return self._found

    async def _discover(self) -> dict[str, Any]:
        answered = False  # some URL answered, other than with a 5xx
        for url in dict.fromkeys(_metadata_urls(self.issuer)):
            try:
                response = await self._http().get(url, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                logger.warning("authorization server metadata %s: %s", url, type(exc).__name__)
                continue
            if _unavailable(response):
                logger.warning(
                    "authorization server metadata %s: HTTP %d", url, response.status_code
                )
                continue
            answered = True
            if response.status_code != 200:
                continue
            try:
                body = response.json()
            except ValueError:
                continue
            named = str(body.get("issuer", "")) if isinstance(body, dict) else ""
            if isinstance(body, dict) and named.rstrip("/") == self.issuer.rstrip("/"):
                return body
            logger.warning("authorization server metadata %s names another issuer", url)
        if not answered:
            raise AuthServerUnavailableError("the authorization server is unreachable")
        raise TokenRefusedError("the authorization server's metadata could not be read")


class JwksCache:
    """The issuer's signing keys by `kid`: cached for `max_age`, fetched again on an unknown
    `kid` at most once per `min_interval` seconds (so forged kids cannot flood the issuer).
    When a fetch fails because the issuer is unreachable (or answers 5xx), a key it cannot
    supply raises `AuthServerUnavailableError`, and the fetch is tried again after
    `retry_interval` seconds."""

    def __init__(
        self,
        url: Callable[[], Awaitable[str]],
        http: Callable[[], httpx.AsyncClient],
        *,
        max_age: float = 3600.0,
        min_interval: float = 30.0,
    ) -> None:
        self._url = url
        self._http = http
        self.max_age = max_age
        self.min_interval = min_interval
        self.retry_interval: float = RETRY_AFTER
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched = -1e18
        self._down = False  # the last fetch failed for want of an answer
        self._lock = anyio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        stale = now - self._fetched > self.max_age
        interval = self.retry_interval if self._down else self.min_interval
        if stale or (kid not in self._keys and now - self._fetched > interval):
            await self._refresh(stale)
        if kid is None:
            usable = [k for k in self._keys.values() if k.algorithm_name == alg]
            found = usable[0] if len(usable) == 1 else None
        else:
            found = self._keys.get(kid)
            found = found if found is not None and found.algorithm_name == alg else None
        if found is None and self._down:
            raise AuthServerUnavailableError("the authorization server's keys could not be fetched")
        return found

    def _outcome(self, *, down: bool) -> None:
        """Record a fetch's outcome, once it has one: a request arriving while the fetch is
        under way sees the state before it (and waits for the fetch), never a half-done one."""
        self._down = down
        self._fetched = time.monotonic()

    async def _refresh(self, stale: bool) -> None:
        import jwt

        fetched = self._fetched
        async with self._lock:
            if self._fetched != fetched:  # another request refreshed while we waited
                return
            self.fetches += 1
            try:
                url = await self._url()
                response = await self._http().get(url, headers={"Accept": "application/json"})
                if _unavailable(response):
                    self._outcome(down=True)
                    logger.warning(
                        "could not fetch the signing keys: HTTP %d", response.status_code
                    )
                    return
                data = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, AuthServerUnavailableError) as exc:
                self._outcome(down=True)
                logger.warning("could not fetch the signing keys: %s", type(exc).__name__)
                return
            except (ValueError, TokenRefusedError) as exc:
                self._outcome(down=False)
                logger.warning("could not fetch the signing keys: %s", type(exc).__name__)
                return
            keys: dict[str | None, jwt.PyJWK] = {}
            for entry in (data or {}).get("keys", []) if isinstance(data, dict) else []:
                if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except (jwt.PyJWTError, ValueError, KeyError, TypeError):
                    continue
                keys[entry.get("kid")] = key
            if keys or stale:
                self._keys = keys
            self._outcome(down=False)


def _scopes_of(claims: Mapping[str, Any]) -> list[str]:
    scope = claims.get("scope", claims.get("scp", ""))
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [s for s in scope if isinstance(s, str)]
    return []


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and all(token.split("."))


_ACCESS_TYPES = frozenset({"at+jwt", "application/at+jwt", "jwt"})


class JwtVerifier:
    """JWT access tokens: signature (allow-listed asymmetric algorithms, the issuer's keys),
    issuer, expiry, audience = this server, and not an ID token."""

    scoped = True

    def __init__(self, config: AuthConfig, audience: str, keys: JwksCache) -> None:
        bare = config.issuer.rstrip("/")
        self.issuer = (bare, bare + "/")  # as configured, with or without a final slash
        self.algorithms = config.algorithms
        self.leeway = config.leeway
        self.audience = [audience, audience + "/"]
        self.keys = keys

    async def verify(self, token: str) -> AccessToken:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefusedError("malformed token") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRefusedError(f"signature algorithm {str(alg)[:16]!r} is not accepted")
        if str(header.get("typ", "jwt")).lower() not in _ACCESS_TYPES:
            raise TokenRefusedError("not an access token")
        key = await self.keys.key(header.get("kid"), alg)
        if key is None:
            raise TokenRefusedError("signed with a key the issuer does not publish")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefusedError("token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRefusedError("token issued for another resource") from None
        except jwt.InvalidIssuerError:
            raise TokenRefusedError("token from another issuer") from None
        except jwt.PyJWTError:
            raise TokenRefusedError("invalid token") from None
        if {"nonce", "at_hash", "c_hash"} & set(claims):
            raise TokenRefusedError("an ID token is not an access token")
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or ""),
            scopes=_scopes_of(claims),
            expires_at=int(claims["exp"]),
            resource=self.audience[0],
            subject=str(claims["sub"]),
            claims={"iss": claims["iss"]},
        )


class Introspection:
    """RFC 7662: ask the authorization server about an opaque token. Answers are cached for at
    most `cache_seconds` (a revoked token keeps working at most that long)."""

    scoped = True

    def __init__(
        self,
        config: AuthConfig,
        audience: str,
        url: Callable[[], Awaitable[str]],
        http: Callable[[], httpx.AsyncClient],
        cache_seconds: float = 30.0,
    ) -> None:
        self.issuer = config.issuer
        self.audience = {audience, audience + "/"}
        self.leeway = config.leeway
        self._url = url
        self._http = http
        self._auth = client_auth_header(config.client_id, config.client_secret)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, AccessToken]] = {}

    async def verify(self, token: str) -> AccessToken:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = time.time()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = await self._http().post(
                await self._url(),
                data={"token": token, "token_type_hint": "access_token"},
                headers={**self._auth, "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            logger.warning("introspection: %s", type(exc).__name__)
            raise AuthServerUnavailableError("the authorization server did not answer") from None
        if _unavailable(response):
            logger.warning("introspection: HTTP %d", response.status_code)
            raise AuthServerUnavailableError(
                f"the authorization server failed (HTTP {response.status_code})"
            )
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TokenRefusedError("introspection failed")
        if body.get("active") is not True:
            raise TokenRefusedError("inactive token")
        audiences = body.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences or []
        if not self.audience & set(audiences):
            raise TokenRefusedError("token issued for another resource")
        if body.get("iss") is not None and str(body["iss"]).rstrip("/") != self.issuer.rstrip("/"):
            raise TokenRefusedError("token from another issuer")
        if body.get("token_type") not in (None, "access_token", "Bearer", "bearer"):
            raise TokenRefusedError("not an access token")
        expires = body.get("exp")
        if isinstance(expires, int | float) and expires + self.leeway < now:
            raise TokenRefusedError("token expired")
        access = AccessToken(
            token=token,
            client_id=str(body.get("client_id") or ""),
            scopes=_scopes_of(body),
            expires_at=int(expires) if isinstance(expires, int | float) else None,
            resource=min(self.audience),
            subject=str(body.get("sub") or ""),
            claims={"iss": self.issuer},
        )
        until = now + self.cache_seconds
        if isinstance(expires, int | float):
            until = min(until, float(expires))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (until, access)
        return access


class OAuthVerifier:
    """`oauth` mode: JWTs verified locally, opaque tokens introspected (when configured)."""

    scoped = True

    def __init__(self, config: AuthConfig, audience: str, timeout: float) -> None:
        self.config = config
        self._client: httpx.AsyncClient | None = None
        self._timeout = timeout
        self.metadata = IssuerMetadata(config.issuer, self.http)
        self.keys = JwksCache(self._jwks_url, self.http)
        self.jwt = JwtVerifier(config, audience, self.keys)
        self.introspection = (
            Introspection(config, audience, self._introspection_url, self.http)
            if config.client_id and config.client_secret
            else None
        )

    def http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=min(self._timeout, 10.0))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _jwks_url(self) -> str:
        if self.config.jwks_url:
            return self.config.jwks_url
        found = (await self.metadata.get()).get("jwks_uri")
        if not isinstance(found, str):
            raise TokenRefusedError("the authorization server publishes no jwks_uri")
        return found

    async def _introspection_url(self) -> str:
        if self.config.introspection_url:
            return self.config.introspection_url
        found = (await self.metadata.get()).get("introspection_endpoint")
        if not isinstance(found, str):
            raise TokenRefusedError("the authorization server offers no introspection")
        return found

    async def verify(self, token: str) -> AccessToken:
        if _looks_like_jwt(token):
            return await self.jwt.verify(token)
        if self.introspection is None:
            raise TokenRefusedError("not a JWT (set MCP_AUTH_CLIENT_ID to introspect)")
        return await self.introspection.verify(token)


# --- the HTTP layer --------------------------------------------------------------------------


def metadata_paths(public_url: str) -> tuple[str, ...]:
    """Where RFC 9728 metadata is served: path-suffixed first, then the root form."""
    path = urlsplit(public_url).path.rstrip("/")
    base = "/.well-known/oauth-protected-resource"
    return (base + path, base) if path else (base,)


def protected_resource_metadata(
    public_url: str, issuer: str, scopes: Iterable[str], name: str
) -> dict[str, Any]:
    return {
        "resource": public_url,
        "authorization_servers": [issuer],
        "scopes_supported": sorted(set(scopes)),
        "bearer_methods_supported": ["header"],
        "resource_name": name,
    }


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class _Challenge:
    status: int
    error: str | None
    description: str
    scope: str


class AuthGate:
    """ASGI middleware: serves the protected-resource metadata and guards the MCP endpoint.

    A request to `mcp_path` needs `Authorization: Bearer <token>` that `verifier` accepts. For
    scoped tokens the scopes the called operation needs (`ApiServer.required_scopes`) are
    checked in the JSON-RPC body before the SDK sees the request: the body `RequestGuard`
    already read (`limits.buffered_body`), never a second read or copy of it.
    The caller is then put where the SDK and the runtime look for it (`scope["user"]`,
    `get_access_token()`, `caller_scopes()`). Other paths pass through untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        server: ApiServer,
        verifier: Verifier,
        mcp_path: str = "/mcp",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.server = server
        self.verifier = verifier
        self.mcp_path = mcp_path
        settings = server.app_settings
        self.metadata = metadata
        self.metadata_body = json.dumps(metadata).encode() if metadata is not None else b""
        self.paths = metadata_paths(settings.public_url) if metadata is not None else ()
        self.metadata_url = (
            _origin(settings.public_url) + self.paths[0] if metadata is not None else ""
        )
        self.all_scopes = " ".join(metadata["scopes_supported"]) if metadata else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in self.paths:
            await self._metadata(scope, send)
            return
        if path.rstrip("/") != self.mcp_path:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":  # CORS preflight carries no credentials
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None:
            await self._refuse(send, _Challenge(401, None, "no access token", self.all_scopes))
            return
        try:
            access = await self.verifier.verify(token)
        except TokenRefusedError as exc:
            logger.info("refused a request: %s", exc)
            challenge = _Challenge(401, "invalid_token", str(exc), self.all_scopes)
            await self._refuse(send, challenge)
            return
        except AuthServerUnavailableError as exc:
            logger.warning("could not check a token, answered 503: %s", exc)
            await _unavailable_reply(send, str(exc))
            return
        granted = frozenset(access.scopes) if self.verifier.scoped else None
        if granted is not None and scope["method"] == "POST":
            body = buffered_body(scope)
            if body is None:
                raise RuntimeError(
                    "AuthGate needs limits.RequestGuard in front of it, to read the POST body"
                )
            needed = self.server.required_scopes_for_body(body)
            missing = needed - granted
            if missing:
                logger.info("refused a call: scopes missing (%s)", " ".join(sorted(missing)))
                description = "this call needs the scope(s) " + " ".join(sorted(needed))
                challenge = _Challenge(
                    403, "insufficient_scope", description, " ".join(sorted(needed))
                )
                await self._refuse(send, challenge)
                return
        user = AuthenticatedUser(access)
        scope = {**scope, "user": user, "auth": AuthCredentials(access.scopes)}
        user_token = auth_context_var.set(user)
        scopes_token = _caller_scopes.set(granted)
        try:
            await self.app(scope, receive, send)
        finally:
            _caller_scopes.reset(scopes_token)
            auth_context_var.reset(user_token)

    async def _metadata(self, scope: Scope, send: Send) -> None:
        body = b"" if scope["method"] == "OPTIONS" else self.metadata_body
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            await _reply(send, 405, b'{"error": "method not allowed"}')
            return
        await _reply(
            send,
            200,
            body,
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", b"GET, OPTIONS"),
            (b"access-control-allow-headers", b"mcp-protocol-version"),
            (b"cache-control", b"public, max-age=3600"),
        )

    async def _refuse(self, send: Send, challenge: _Challenge) -> None:
        parts = []
        if challenge.error:
            parts.append(f"error={_quote(challenge.error)}")
            parts.append(f"error_description={_quote(challenge.description)}")
        if self.metadata_url:
            parts.append(f"resource_metadata={_quote(self.metadata_url)}")
        if challenge.scope:
            parts.append(f"scope={_quote(challenge.scope)}")
        header = "Bearer " + ", ".join(parts) if parts else 'Bearer realm="mcp"'
        body = json.dumps(
            {
                "error": challenge.error or "invalid_request",
                "error_description": challenge.description,
            }
        ).encode()
        await _reply(
            send,
            challenge.status,
            body,
            (b"www-authenticate", header.encode()),
            (b"cache-control", b"no-store"),
            (b"access-control-expose-headers", b"www-authenticate"),
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            kind, _, token = text.partition(" ")
            token = token.strip()
            if kind.lower() == "bearer" and token:
                return token
            return None
    return None


async def _unavailable_reply(send: Send, description: str) -> None:
    """503: the token could not be checked now; the caller should retry, not sign in again."""
    body = json.dumps(
        {"error": "temporarily_unavailable", "error_description": description}
    ).encode()
    await _reply(
        send,
        503,
        body,
        (b"retry-after", str(RETRY_AFTER).encode()),
        (b"cache-control", b"no-store"),
        (b"access-control-expose-headers", b"retry-after"),
    )


async def _reply(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    """A JSON reply, with `headers` after its content type."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def jsonrpc_calls(body: bytes) -> list[tuple[str, Mapping[str, Any]]]:
    """(method, params) of each JSON-RPC request in a body; [] when it is not JSON-RPC."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    messages = data if isinstance(data, list) else [data]
    calls: list[tuple[str, Mapping[str, Any]]] = []
    for message in messages:
        if isinstance(message, dict) and isinstance(message.get("method"), str):
            params = message.get("params")
            calls.append((message["method"], params if isinstance(params, dict) else {}))
    return calls


async def _nothing() -> None:
    return None


def install_auth(server: ApiServer, app: Starlette) -> Callable[[], Awaitable[None]]:
    """Add what `MCP_AUTH_MODE` needs to the server's HTTP app; returns what to close when
    the app stops."""
    settings = server.app_settings
    config = settings.auth
    if config.mode == "none":
        return _nothing
    if config.mode == "bearer":
        app.add_middleware(AuthGate, server=server, verifier=StaticTokens(config.bearer_tokens))
        return _nothing
    if config.mode == "oauth":
        verifier = OAuthVerifier(config, settings.public_url, settings.timeout)
        metadata = protected_resource_metadata(
            settings.public_url, config.issuer, server.all_scopes(), server.project.title
        )
        app.add_middleware(AuthGate, server=server, verifier=verifier, metadata=metadata)
        return verifier.aclose
    from .proxy import OAuthProxy

    proxy = OAuthProxy(server)
    server.upstream.credentials.user_tokens = proxy
    metadata = protected_resource_metadata(
        settings.public_url, proxy.issuer, server.all_scopes(), server.project.title
    )
    app.router.routes[0:0] = proxy.routes()
    app.add_middleware(AuthGate, server=server, verifier=proxy, metadata=metadata)
    return proxy.aclose
