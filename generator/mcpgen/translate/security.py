"""Upstream credentials: the environment variables of each security scheme, named for their role
(one for an API key or a bearer token, two for basic, six for OAuth 2 and OpenID Connect)."""

from __future__ import annotations

from typing import Any

from ..errors import Report, join_pointer
from ..ir import Credential, SecurityScheme
from ..naming import snake

__all__ = ["security_schemes"]


def security_schemes(document: dict[str, Any], report: Report, file: str) -> list[SecurityScheme]:
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    result: list[SecurityScheme] = []
    for key in sorted(schemes):
        node = schemes[key]
        pointer = join_pointer("/components/securitySchemes", key)
        if not isinstance(node, dict) or "$ref" in node:
            report.warn(
                "security-ref",
                "referenced security schemes are not read",
                file=file,
                pointer=pointer,
            )
            continue
        scheme = _scheme(key, node)
        if scheme is None:
            report.warn(
                "security-unsupported",
                f"security scheme '{key}' ({node.get('type')}) is not supported; "
                "calls needing it go out without it",
                file=file,
                pointer=pointer,
            )
            continue
        result.append(scheme)
    return result


def _env(key: str, suffix: str) -> str:
    stem = snake(key).upper() or "API"
    if stem.endswith(suffix) or (suffix == "KEY" and stem.endswith("TOKEN")):
        return f"UPSTREAM_{stem}"
    return f"UPSTREAM_{stem}_{suffix}"


def _scheme(key: str, node: dict[str, Any]) -> SecurityScheme | None:
    kind = node.get("type")
    described = str(node.get("description") or "").strip()
    if kind == "apiKey":
        where = node.get("in", "header")
        name = str(node.get("name", ""))
        if where not in ("header", "query", "cookie") or not name:
            return None
        env = _env(key, "KEY")
        return SecurityScheme(
            key=key,
            kind="api_key",
            location=where,
            param=name,
            api_key=Credential(
                env=env, description=f"API key sent as {where} `{name}`", required=True
            ),
            description=described or f"API key in the {where} `{name}`",
        )
    if kind == "http" and str(node.get("scheme", "")).lower() == "basic":
        return SecurityScheme(
            key=key,
            kind="basic",
            username=Credential(
                env=_env(key, "USERNAME"), description="HTTP basic user name", required=True
            ),
            password=Credential(
                env=_env(key, "PASSWORD"), description="HTTP basic password", required=True
            ),
            description=described or "HTTP basic authentication",
        )
    if kind == "http" and str(node.get("scheme", "")).lower() == "bearer":
        return SecurityScheme(
            key=key,
            kind="bearer",
            token=Credential(
                env=_env(key, "TOKEN"), description="Upstream bearer token", required=True
            ),
            description=described or "Bearer bearer token",
        )
    if kind in ("oauth2", "openIdConnect"):
        return _oauth2(key, kind, node, described)
    return None


def _url(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _oauth2(key: str, kind: str, node: dict[str, Any], described: str) -> SecurityScheme:
    """OAuth 2 and OpenID Connect: the flows' endpoints, and the variables of each way in."""
    flows = node.get("flows") if isinstance(node.get("flows"), dict) else {}
    client = flows.get("clientCredentials") if isinstance(flows, dict) else None
    code = flows.get("authorizationCode") if isinstance(flows, dict) else None
    client = client if isinstance(client, dict) else {}
    code = code if isinstance(code, dict) else {}
    discovery = _url(node.get("openIdConnectUrl")) if kind == "openIdConnect" else ""
    stem = snake(key).upper() or "API"
    stem = stem.removesuffix("_TOKEN")
    what = "OpenID Connect" if kind == "openIdConnect" else "OAuth 2"
    return SecurityScheme(
        key=key,
        kind="oauth2",
        description=described or f"{what} access token",
        token=Credential(
            env=f"UPSTREAM_{stem}_TOKEN", description="A ready upstream access token", required=True
        ),
        client_id=Credential(
            env=f"UPSTREAM_{stem}_CLIENT_ID",
            description="This server's OAuth client ID at the API's provider",
            required=True,
        ),
        client_secret=Credential(
            env=f"UPSTREAM_{stem}_CLIENT_SECRET",
            description="This server's OAuth client secret",
            required=True,
        ),
        token_url_override=Credential(
            env=f"UPSTREAM_{stem}_TOKEN_URL",
            description="Override of the token endpoint",
            required=False,
        ),
        authorize_url_override=Credential(
            env=f"UPSTREAM_{stem}_AUTHORIZE_URL",
            description="Override of the authorization endpoint (oauth-proxy)",
            required=False,
        ),
        scopes_override=Credential(
            env=f"UPSTREAM_{stem}_SCOPES",
            description="Override of the scopes requested upstream, space separated",
            required=False,
        ),
        token_url=_url(client.get("tokenUrl")),
        authorize_url=_url(code.get("authorizationUrl")),
        code_token_url=_url(code.get("tokenUrl")),
        discovery_url=discovery,
    )
