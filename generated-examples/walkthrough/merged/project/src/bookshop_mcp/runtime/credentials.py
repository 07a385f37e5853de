"""Upstream credentials: what each call to the API carries, per the spec's security schemes.

Each operation lists its security alternatives (`security: [A, B]` in the spec: A, or else B;
each alternative needs all the schemes it names). The first alternative whose credentials are
all available is used; when none is, the call stops with an error naming the variables to set.

Per scheme kind:
- `api_key` (header, query or cookie), `bearer` and `basic`: fixed values from the environment.
- `oauth2` (OAuth 2 and OpenID Connect), in this order:
  1. per-user tokens: in `oauth-proxy` mode, the upstream token the calling user obtained
     when they signed in (kept server-side, refreshed before it expires);
  2. client credentials: `UPSTREAM_<S>_CLIENT_ID` and `_CLIENT_SECRET` exchanged at the
     flow's `tokenUrl` (or `UPSTREAM_<S>_TOKEN_URL`); the token is cached, requested once when
     many calls arrive together, renewed before it expires and after a 401;
  3. a ready access token in `UPSTREAM_<S>_TOKEN`.

The MCP client's own token is never sent upstream. Every client-credentials token obtained while
the server runs is handed to the `learn` callable given to `Credentials` (the server's
redactor), so that it is masked wherever it would appear in a log line or a tool result.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote_plus

import anyio
import httpx

from .config import Settings
from .definitions import ProjectInfo, Scheme

__all__ = [
    "EARLY_RENEWAL",
    "Applied",
    "ClientCredentials",
    "Credentials",
    "NotConfiguredError",
    "UpstreamAuthError",
    "UserTokens",
    "client_auth_header",
    "merge",
    "parse_scopes",
]

logger = logging.getLogger(__name__)
EARLY_RENEWAL = 60.0  # seconds before expiry a cached token is renewed (at most half its life)


def client_auth_header(client_id: str, client_secret: str) -> dict[str, str]:
    """OAuth client authentication with HTTP Basic (`client_secret_basic`): RFC 6749 2.3.1
    form-encodes the client ID and the secret before they are joined and base64-encoded, so
    a `:` or a non-ASCII character in either survives the trip."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def parse_scopes(raw: str) -> tuple[str, ...]:
    """A list of OAuth scopes as a setting gives it: separated by spaces, commas or both."""
    return tuple(raw.replace(",", " ").split())


class NotConfiguredError(RuntimeError):
    """The server lacks configuration a call needs (reported to the caller as a tool error)."""


class UpstreamAuthError(NotConfiguredError):
    """Credentials could not be obtained from the upstream's token endpoint."""


class UserTokens(Protocol):
    """Per-user upstream tokens (oauth-proxy mode), for the caller of the current request."""

    def has_user(self) -> bool:
        """True when the current request comes from a user with an upstream grant."""
        ...

    async def upstream_token(self, scheme: str, *, renew: bool = False) -> str | None:
        """The caller's upstream access token for `scheme` (renewed first when `renew`);
        None when the caller has none."""
        ...


@dataclass
class Applied:
    """Credentials added to one request, and how to renew them after a 401."""

    headers: dict[str, str] = field(default_factory=dict)
    params: list[tuple[str, str]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    renewers: list[Callable[[], Awaitable[bool]]] = field(default_factory=list)

    async def renew(self) -> bool:
        """Drop or refresh the tokens used; True when a retry may succeed."""
        renewed = False
        for renew in self.renewers:
            renewed = await renew() or renewed
        return renewed


def _form_error(response: httpx.Response) -> str:
    """The OAuth error code of a token endpoint's reply (never its other text)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 64:
        return f"HTTP {response.status_code}, {code}"
    return f"HTTP {response.status_code}"


class ClientCredentials:
    """An OAuth 2 client-credentials token for one scheme: cached, renewed early, single-flight."""

    def __init__(
        self,
        http: Callable[[], httpx.AsyncClient],
        token_url: str,
        client_id: str,
        client_secret: str,
        scopes: Sequence[str],
        variables: str,
        learn: Callable[[str], None] = lambda token: None,
    ) -> None:
        self._http = http
        self._learn = learn  # told each token obtained
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self.scopes = tuple(scopes)
        self._variables = variables  # named in errors
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = anyio.Lock()
        self.fetches = 0  # token requests made, for tests and metrics

    def _fresh(self) -> str | None:
        return self._token if self._token and time.monotonic() < self._renew_at else None

    async def token(self) -> str:
        """A valid access token; one request to the token endpoint however many callers wait."""
        token = self._fresh()
        if token:
            return token
        async with self._lock:
            token = self._fresh()  # someone else fetched it while we waited
            if token:
                return token
            return await self._fetch()

    async def invalidate(self, token: str) -> bool:
        """Forget `token` (the upstream refused it); True when a new one will be fetched."""
        async with self._lock:
            if self._token == token:
                self._token = None
            return True

    async def _fetch(self) -> str:
        self.fetches += 1
        form = {"grant_type": "client_credentials"}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        try:
            response = await self._http().post(
                self.token_url,
                data=form,
                headers={
                    **client_auth_header(self._client_id, self._client_secret),
                    "Accept": "application/json",
                },
            )
        except httpx.HTTPError as exc:
            raise UpstreamAuthError(
                f"could not reach the token endpoint {self.token_url} ({type(exc).__name__})"
            ) from None
        if response.status_code != 200:
            raise UpstreamAuthError(
                f"the token endpoint {self.token_url} refused the client credentials "
                f"({_form_error(response)}); check {self._variables}"
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamAuthError(
                f"the token endpoint {self.token_url} answered without an access_token"
            )
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
        self._learn(token)
        self._token = token
        self._renew_at = time.monotonic() + seconds - min(EARLY_RENEWAL, seconds / 2)
        logger.info("obtained an upstream access token from %s", self.token_url)
        return token


def _scopes(raw: str | None, default: Sequence[str]) -> tuple[str, ...]:
    return tuple(default) if raw is None else parse_scopes(raw)


class Credentials:
    """The upstream credentials of one server: applied per request, shared by all calls."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        user_tokens: UserTokens | None = None,
        learn: Callable[[str], None] = lambda token: None,
    ) -> None:
        self.project = project
        self.given: Mapping[str, str] = settings.credentials
        self.timeout = settings.timeout
        self.user_tokens = user_tokens
        self._learn = learn  # told each token obtained (the server's redactor)
        self._http_client: httpx.AsyncClient | None = None
        self._client_credentials: dict[str, ClientCredentials] = {}

    def _http(self) -> httpx.AsyncClient:
        if self._http_client is None or self._http_client.is_closed:
            self._http_client = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                headers={"user-agent": self.project.user_agent},
            )
        return self._http_client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()
            self._http_client = None

    def client_credentials(self, key: str) -> ClientCredentials | None:
        """The client-credentials token source of oauth2 scheme `key`, when configured."""
        scheme = self.project.schemes.get(key)
        if scheme is None or scheme.kind != "oauth2":
            return None
        found = self._client_credentials.get(key)
        if found is not None:
            return found
        token_url = self.given.get(scheme.variable("token_url")) or scheme.token_url
        client_id = self.given.get(scheme.variable("client_id"))
        secret = self.given.get(scheme.variable("client_secret"))
        if not (token_url and client_id and secret):
            return None
        found = ClientCredentials(
            self._http,
            token_url,
            client_id,
            secret,
            _scopes(self.given.get(scheme.variable("scopes")), scheme.scopes),
            f"{scheme.variable('client_id')} and {scheme.variable('client_secret')}",
            self._learn,
        )
        self._client_credentials[key] = found
        return found

    def _per_user(self, scheme: Scheme) -> bool:
        return (
            self.user_tokens is not None
            and bool(scheme.authorize_url or scheme.discovery_url)
            and self.user_tokens.has_user()
        )

    def available(self, key: str) -> bool:
        """Whether scheme `key` can be applied to a request now."""
        scheme = self.project.schemes.get(key)
        if scheme is None:
            return False
        if scheme.kind != "oauth2":
            return all(v in self.given for v in scheme.variables)
        return (
            self._per_user(scheme)
            or self.client_credentials(key) is not None
            or scheme.variable("token") in self.given
        )

    def missing(self, security: Sequence[Sequence[str]]) -> str:
        """What to set for any alternative of `security`, in words."""
        options = []
        for alternative in security:
            needed: list[str] = []
            for key in alternative:
                scheme = self.project.schemes.get(key)
                if scheme is None:
                    needed = []
                    break
                if scheme.kind == "oauth2":
                    ways = [scheme.variable("token")]
                    if scheme.token_url:
                        pair = (scheme.variable("client_id"), scheme.variable("client_secret"))
                        ways.insert(0, " and ".join(pair))
                    needed.append(" or ".join(ways) + f" (security scheme {key!r})")
                else:
                    needed.append(" and ".join(scheme.variables) + f" (security scheme {key!r})")
            if needed:
                options.append(", plus ".join(needed))
        if not options:
            return "the operation's security schemes are not supported by this server"
        return "set " + "; or set ".join(options)

    async def apply(self, security: Sequence[Sequence[str]]) -> Applied:
        """The credentials of the first security alternative that is fully available."""
        if not security:
            return Applied()
        for alternative in security:
            if not alternative:
                return Applied()  # `{}`: this operation may also be called anonymously
            if all(self.available(key) for key in alternative):
                applied = Applied()
                for key in alternative:
                    await self._apply(key, applied)
                return applied
        raise NotConfiguredError(
            f"no upstream credentials are configured: {self.missing(security)}"
        )

    async def _apply(self, key: str, applied: Applied) -> None:
        scheme = self.project.schemes[key]
        given = self.given
        if scheme.kind == "oauth2":
            token = await self._oauth2_token(key, scheme, applied)
            applied.headers["Authorization"] = f"Bearer {token}"
            return
        values = [given[v] for v in scheme.variables]
        if scheme.kind == "bearer":
            applied.headers["Authorization"] = f"Bearer {values[0]}"
        elif scheme.kind == "basic":
            token = base64.b64encode(f"{values[0]}:{values[1]}".encode()).decode()
            applied.headers["Authorization"] = f"Basic {token}"
        elif scheme.location == "header":
            applied.headers[scheme.param] = values[0]
        elif scheme.location == "query":
            applied.params.append((scheme.param, values[0]))
        else:
            applied.cookies[scheme.param] = values[0]

    async def _oauth2_token(self, key: str, scheme: Scheme, applied: Applied) -> str:
        users = self.user_tokens
        if users is not None and self._per_user(scheme):
            token = await users.upstream_token(key)
            if token is None:
                raise NotConfiguredError(
                    "your sign-in no longer grants access to the upstream API: "
                    "authorize this MCP client again"
                )

            async def renew_user() -> bool:
                return await users.upstream_token(key, renew=True) is not None

            applied.renewers.append(renew_user)
            return token
        source = self.client_credentials(key)
        if source is not None:
            token = await source.token()

            async def renew_client() -> bool:
                return await source.invalidate(token)

            applied.renewers.append(renew_client)
            return token
        return self.given[scheme.variable("token")]


def merge(
    applied: Applied,
    headers: dict[str, str],
    params: list[tuple[str, str]],
    cookies: dict[str, str],
) -> None:
    """Add the applied credentials to a request's parts (credentials win over arguments)."""
    headers.update(applied.headers)
    params.extend(applied.params)
    cookies.update(applied.cookies)
