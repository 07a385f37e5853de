"""Upstream credentials: one environment variable (or two, for basic) per security scheme."""

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
            credentials=(Credential(env=env, description=f"API key sent as {where} `{name}`"),),
            description=described or f"API key in the {where} `{name}`",
        )
    if kind == "http" and str(node.get("scheme", "")).lower() == "basic":
        return SecurityScheme(
            key=key,
            kind="basic",
            credentials=(
                Credential(env=_env(key, "USERNAME"), description="HTTP basic user name"),
                Credential(env=_env(key, "PASSWORD"), description="HTTP basic password"),
            ),
            description=described or "HTTP basic authentication",
        )
    if (kind == "http" and str(node.get("scheme", "")).lower() == "bearer") or kind in (
        "oauth2",
        "openIdConnect",
    ):
        what = "bearer token" if kind == "http" else f"access token ({kind}, obtained beforehand)"
        return SecurityScheme(
            key=key,
            kind="bearer",
            credentials=(Credential(env=_env(key, "TOKEN"), description=f"Upstream {what}"),),
            description=described or f"Bearer {what}",
        )
    return None
