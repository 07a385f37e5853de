"""IR building on tiny inline specs: arguments, bodies, outputs, annotations, names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from mcpgen.errors import Report
from mcpgen.ir import (
    CREDENTIAL_ROLES,
    Credential,
    CredentialRole,
    Project,
    SecurityScheme,
    Tool,
)
from mcpgen.pipeline import load_spec
from mcpgen.runtime.definitions import Scheme
from mcpgen.translate import TranslateOptions, translate_project

ROOT = Path(__file__).resolve().parents[2]


def translate(tmp_path: Path, paths: dict[str, Any], **extra: Any) -> Project:
    document = {"openapi": "3.1.0", "info": {"title": "Tiny API", "version": "1"}, "paths": paths}
    document.update(extra)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    return translate_project(load_spec(tmp_path / "openapi.json"), TranslateOptions(), Report())


def tool(project: Project, name: str) -> Tool:
    return next(t for t in project.tools if t.name == name)


def test_bookshop_tools_and_arguments() -> None:
    project = translate_project(
        load_spec(ROOT / "specs/bookshop/openapi.yaml"), TranslateOptions(name="bookshop"), Report()
    )
    assert [t.name for t in project.tools] == [
        "list_books",
        "create_book",
        "get_book",
        "replace_book",
        "delete_book",
        "add_review",
        "get_authors_by_author_id_books",
        "get_category",
    ]
    create = tool(project, "create_book")
    assert create.body is not None and create.body.flattened
    assert list(create.input_schema["properties"]) == [
        "title",
        "author_id",
        "genre",
        "tags",
        "published",
    ]
    assert create.input_schema["required"] == ["title", "author_id"]
    assert "id" not in create.input_schema["properties"], "readOnly stays out of inputs"
    assert create.output_schema is not None and "id" in create.output_schema["properties"]
    listing = tool(project, "list_books")
    fields = next(p for p in listing.params if p.arg == "fields")
    assert (fields.location, fields.style, fields.explode) == ("query", "form", False)
    header = next(p for p in listing.params if p.location == "header")
    assert (header.arg, header.py_name, header.wire) == (
        "X-Request-Id",
        "x_request_id",
        "X-Request-Id",
    )
    assert project.base_url == "http://127.0.0.1:8000/v1"
    assert [s.variables for s in project.security] == [("UPSTREAM_API_KEY",)]


def test_annotations_follow_the_method(tmp_path: Path) -> None:
    ok = {"responses": {"204": {"description": "ok"}}}
    project = translate(
        tmp_path, {"/x": dict.fromkeys(("get", "put", "post", "patch", "delete"), ok)}
    )
    hints = {
        t.method: (t.annotations.read_only, t.annotations.destructive, t.annotations.idempotent)
        for t in project.tools
    }
    assert hints == {
        "GET": (True, False, True),
        "PUT": (False, False, True),
        "POST": (False, False, False),
        "PATCH": (False, False, False),
        "DELETE": (False, True, True),
    }


def test_clashing_parameter_names_get_location_suffixes(tmp_path: Path) -> None:
    op = {
        "operationId": "getThing",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "id", "in": "query", "schema": {"type": "integer"}},
        ],
        "responses": {"204": {"description": "ok"}},
    }
    project = translate(tmp_path, {"/things/{id}": {"get": op}})
    args = [(p.arg, p.location) for p in project.tools[0].params]
    assert args == [("id__path", "path"), ("id__query", "query")]
    assert project.tools[0].input_schema["required"] == ["id__path"]


def test_a_body_property_clashing_with_a_parameter_gets_suffixes(tmp_path: Path) -> None:
    op = {
        "operationId": "putThing",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                    }
                }
            },
        },
        "responses": {"204": {"description": "ok"}},
    }
    project = translate(tmp_path, {"/things/{id}": {"put": op}})
    only = project.tools[0]
    assert only.body is not None and only.body.flattened
    assert [(p.arg, p.wire, p.location) for p in only.params] == [
        ("id__path", "id", "path"),
        ("id__body", "id", "body"),
        ("name", "name", "body"),
    ]
    assert only.input_schema["required"] == ["id__path", "id__body"]


def test_a_non_object_body_is_one_argument(tmp_path: Path) -> None:
    op = {
        "operationId": "putTags",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "string"}}}
            },
        },
        "responses": {"204": {"description": "ok"}},
    }
    only = translate(tmp_path, {"/tags": {"put": op}}).tools[0]
    assert only.body is not None and not only.body.flattened and only.body.arg == "body"
    assert only.input_schema["required"] == ["body"]


def test_array_replies_are_wrapped_in_an_object(tmp_path: Path) -> None:
    reply = {"type": "array", "items": {"type": "string"}}
    op = {
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": reply}}}
        }
    }
    project = translate(tmp_path, {"/names": {"get": op}})
    only = project.tools[0]
    assert only.name == "get_names"
    assert only.output_wrapped
    assert only.output_schema == {
        "type": "object",
        "properties": {"result": reply},
        "required": ["result"],
    }


def test_ignored_headers_and_security_alternatives(tmp_path: Path) -> None:
    op = {
        "operationId": "ping",
        "security": [{"key": []}, {"basic": [], "key": []}],
        "parameters": [
            {"name": "Accept", "in": "header", "schema": {"type": "string"}},
            {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
        ],
        "responses": {"204": {"description": "ok"}},
    }
    schemes = {
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "basic": {"type": "http", "scheme": "basic"},
    }
    project = translate(tmp_path, {"/ping": {"get": op}}, components={"securitySchemes": schemes})
    only = project.tools[0]
    assert only.params == ()
    assert only.security == (("key",), ("basic", "key"))
    envs = {s.key: [c.env for c in s.credentials] for s in project.security}
    assert envs == {
        "basic": ["UPSTREAM_BASIC_USERNAME", "UPSTREAM_BASIC_PASSWORD"],
        "key": ["UPSTREAM_KEY"],
    }


def test_parameters_a_security_scheme_fills_are_not_arguments(tmp_path: Path) -> None:
    """A caller's value must never stand in for (or be sent beside) the credential."""
    op = {
        "operationId": "search",
        "security": [{"header": []}, {"query": [], "cookie": []}],
        "parameters": [
            {"name": "x-api-key", "in": "header", "schema": {"type": "string"}},
            {"name": "api_key", "in": "query", "schema": {"type": "string"}},
            {"name": "sid", "in": "cookie", "schema": {"type": "string"}},
            {"name": "sid", "in": "query", "schema": {"type": "string"}},
            {"name": "q", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"204": {"description": "ok"}},
    }
    schemes = {
        "header": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "query": {"type": "apiKey", "in": "query", "name": "api_key"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "unused": {"type": "apiKey", "in": "query", "name": "q"},
    }
    (tmp_path / "openapi.json").write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "Tiny API", "version": "1"},
                "paths": {"/search": {"get": op}},
                "components": {"securitySchemes": schemes},
            }
        )
    )
    report = Report()
    project = translate_project(load_spec(tmp_path / "openapi.json"), TranslateOptions(), report)
    assert [(p.location, p.wire) for p in project.tools[0].params] == [
        ("query", "sid"),
        ("query", "q"),
    ]
    warned = sorted(d.pointer or "" for d in report.warnings if d.code == "param-from-security")
    assert warned == [f"/paths/~1search/get/parameters/{i}" for i in range(3)]


# Each kind of security scheme the translator reads, and the roles its variables are named for:
# role -> (variable, required). Roles not listed must be None.
_OAUTH_ROLES = {
    "token": ("UPSTREAM_{}_TOKEN", True),
    "client_id": ("UPSTREAM_{}_CLIENT_ID", True),
    "client_secret": ("UPSTREAM_{}_CLIENT_SECRET", True),
    "token_url_override": ("UPSTREAM_{}_TOKEN_URL", False),
    "authorize_url_override": ("UPSTREAM_{}_AUTHORIZE_URL", False),
    "scopes_override": ("UPSTREAM_{}_SCOPES", False),
}
_FLOW = {"tokenUrl": "https://id.example/token", "scopes": {"read": "Read", "write": "Write"}}
_CODE = {**_FLOW, "authorizationUrl": "https://id.example/authorize"}
SCHEMES: dict[str, tuple[dict[str, Any], dict[str, tuple[str, bool]], dict[str, Any]]] = {
    "header": (
        {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        {"api_key": ("UPSTREAM_HEADER_KEY", True)},
        {"kind": "api_key", "location": "header", "param": "X-API-Key"},
    ),
    "query": (
        {"type": "apiKey", "in": "query", "name": "api_key"},
        {"api_key": ("UPSTREAM_QUERY_KEY", True)},
        {"kind": "api_key", "location": "query", "param": "api_key"},
    ),
    "cookie": (
        {"type": "apiKey", "in": "cookie", "name": "sid"},
        {"api_key": ("UPSTREAM_COOKIE_KEY", True)},
        {"kind": "api_key", "location": "cookie", "param": "sid"},
    ),
    "bearer": (
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        {"token": ("UPSTREAM_BEARER_TOKEN", True)},
        {"kind": "bearer"},
    ),
    "basic": (
        {"type": "http", "scheme": "Basic"},
        {
            "username": ("UPSTREAM_BASIC_USERNAME", True),
            "password": ("UPSTREAM_BASIC_PASSWORD", True),
        },
        {"kind": "basic"},
    ),
    "machine": (
        {"type": "oauth2", "flows": {"clientCredentials": _FLOW}},
        {role: (env.format("MACHINE"), required) for role, (env, required) in _OAUTH_ROLES.items()},
        {
            "kind": "oauth2",
            "token_url": "https://id.example/token",
            "authorize_url": "",
            "flows": "client credentials",
            "scopes": ("read",),
        },
    ),
    "user": (
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": _CODE,
                "implicit": {"authorizationUrl": "https://id.example/implicit", "scopes": {}},
                "password": _FLOW,
            },
        },
        {role: (env.format("USER"), required) for role, (env, required) in _OAUTH_ROLES.items()},
        {
            "kind": "oauth2",
            "token_url": "",
            "authorize_url": "https://id.example/authorize",
            "code_token_url": "https://id.example/token",
            "flows": "authorization code",
            "scopes": ("read",),
        },
    ),
    "oidc": (
        {"type": "openIdConnect", "openIdConnectUrl": "https://id.example/.well-known/openid"},
        {role: (env.format("OIDC"), required) for role, (env, required) in _OAUTH_ROLES.items()},
        {
            "kind": "oauth2",
            "token_url": "",
            "discovery_url": "https://id.example/.well-known/openid",
            "flows": "OpenID Connect",
            "scopes": ("read",),
        },
    ),
}


@pytest.mark.parametrize("key", sorted(SCHEMES))
def test_each_credential_is_named_for_its_role(tmp_path: Path, key: str) -> None:
    node, roles, fields = SCHEMES[key]
    op = {
        "operationId": "ping",
        "security": [{key: ["read"]}],
        "responses": {"204": {"description": "ok"}},
    }
    schemes = {key: node}
    project = translate(tmp_path, {"/ping": {"get": op}}, components={"securitySchemes": schemes})
    (scheme,) = project.security
    for field, value in fields.items():
        assert getattr(scheme, field) == value, field
    named = {}
    for role in get_args(CredentialRole):
        credential = getattr(scheme, role)
        assert credential is None or isinstance(credential, Credential)
        if credential is not None:
            named[role] = (credential.env, credential.required)
    assert named == roles
    # the list the tables iterate holds the same credentials, in the runtime's order
    assert [c.env for c in scheme.credentials] == [
        roles[r][0] for r in CREDENTIAL_ROLES[scheme.kind]
    ]
    assert scheme.variables == tuple(c.env for c in scheme.credentials)
    runtime = Scheme(kind=scheme.kind, variables=scheme.variables)
    if scheme.kind == "oauth2":
        for role, (env, _) in roles.items():
            assert runtime.variable(role.removesuffix("_override")) == env
        proxy = ("client_id", "client_secret", "token_url_override", "authorize_url_override")
        assert [c.env for c in scheme.proxy_credentials] == [
            roles[r][0] for r in (*proxy, "scopes_override")
        ]
        token = roles["token"][0]
        assert project.test_credentials == {token: "test-" + token.lower().replace("_", "-")}
    else:
        assert scheme.proxy_credentials == ()
        assert set(project.test_credentials) == set(scheme.variables)


@pytest.mark.parametrize(
    ("kind", "roles"),
    [("api_key", ("token",)), ("basic", ("username",)), ("oauth2", ("token",)), ("bearer", ())],
)
def test_a_scheme_must_name_exactly_the_roles_of_its_kind(
    kind: str, roles: tuple[str, ...]
) -> None:
    given = {role: Credential(env="UPSTREAM_X", description="x", required=True) for role in roles}
    with pytest.raises(ValidationError, match=f"a {kind} security scheme has the credentials"):
        SecurityScheme(key="x", kind=kind, description="x", **given)


def test_building_twice_gives_the_same_ir(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "specs/tasks/openapi.json")
    first = translate_project(spec, TranslateOptions(), Report()).model_dump_json()
    second = translate_project(spec, TranslateOptions(), Report()).model_dump_json()
    assert first == second


@pytest.mark.parametrize("spec", ["bookshop/openapi.yaml", "tasks/openapi.json"])
def test_every_example_tool_has_a_sample(spec: str) -> None:
    project = translate_project(load_spec(ROOT / "specs" / spec), TranslateOptions(), Report())
    assert all(t.sample is not None for t in project.tools)


def test_extensions_in_paths_are_not_operations(tmp_path: Path) -> None:
    ok = {"operationId": "ping", "responses": {"204": {"description": "ok"}}}
    project = translate(
        tmp_path,
        {"/ping": {"get": ok}, "x-context-root": "/api", "x-more": {"get": ok}},
    )
    assert [t.name for t in project.tools] == ["ping"]
