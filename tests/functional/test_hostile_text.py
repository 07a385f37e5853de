"""Hostile text in a spec and a mapping never breaks or changes the generated code.

Every text below lands somewhere in the generated project: Python literals and docstrings,
TOML, JSON, Markdown, shell lines, comments and `.env` lines. The project must pass its own
checks (in a venv of its own, as its README says), and agents must see every text verbatim.
Python keywords and builtins are used as parameter and property names, and enum values hold
quotes.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.golden.compare import run_own_checks
from tests.support import mcpclient, net, procs, project

EVIL = (
    "A \"\"\"triple\"\"\" and '''single''' quote, a \\backslash, {{ project.name }}, "
    "{% if x %}, ${HOME}, `rm -rf /`, <script>alert(1)</script> &amp; | a | cell |, "
    "Grüße 日本語 \u202eevil\u202c\u200b and an end backslash\\"
)
MULTILINE = "First line\r\nsecond line\n# not a heading\n- not a list\rthird\\"
ENUM = ["it's", 'say "hi"', "back\\slash", "{{ x }}", "a|b", "$(whoami)"]
TITLE = 'Hostile """ API\\'
NAME = "hostile"


def _schema_text(text: str) -> dict[str, Any]:
    return {"type": "string", "description": text}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": TITLE, "version": 'v1 "beta"\\', "description": MULTILINE},
    "servers": [{"url": "http://127.0.0.1:9/base"}],
    "components": {
        "securitySchemes": {
            'key"s\\': {
                "type": "apiKey",
                "in": "header",
                "name": "X-Api-Key",
                "description": EVIL,
            }
        }
    },
    "security": [{'key"s\\': []}],
    "paths": {
        '/things/{class}/say"hi"\\': {
            "post": {
                "operationId": "doThing",
                "summary": EVIL,
                "description": MULTILINE,
                "parameters": [
                    {"name": "class", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "from", "in": "query", "schema": _schema_text(EVIL)},
                    {"name": "list", "in": "query", "schema": {"type": "integer"}},
                    {"name": "type", "in": "query", "schema": {"enum": ENUM}},
                    {"name": "upstream", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "X-Trace", "in": "header", "schema": _schema_text(MULTILINE)},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["def"],
                                "properties": {
                                    "def": {"type": "string", "enum": ENUM},
                                    "lambda": {"type": "integer"},
                                    "print": _schema_text(EVIL),
                                    "True": {"type": "boolean"},
                                    "self": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": EVIL,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"import": {"type": "string", "enum": ENUM}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}
MAPPING = {
    "version": 1,
    "server": {"name": NAME, "instructions": EVIL, "title": TITLE},
    "rules": [],
    "prompts": [
        {
            "name": "evil",
            "title": EVIL,
            "description": MULTILINE,
            "arguments": [{"name": "topic", "description": EVIL}],
            "template": 'About {topic}: {{ x }} """ \\ ${HOME}',
        }
    ],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    spec, mapping = root / "openapi.json", root / "mcpgen.json"
    spec.write_text(json.dumps(SPEC), encoding="utf-8")
    mapping.write_text(json.dumps(MAPPING), encoding="utf-8")
    return project.generate(spec, root / "project", "-m", str(mapping))


def test_the_project_passes_its_own_checks(generated: Path, tmp_path: Path) -> None:
    run_own_checks(generated, tmp_path / "venv")


def test_config_files_read_back_the_text(generated: Path) -> None:
    pyproject = tomllib.loads((generated / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == "First line"
    assert pyproject["project"]["version"] == "0.1.0"
    env_lines = (generated / ".env.example").read_text(encoding="utf-8").splitlines()
    variables = [line.split("=", 1)[0] for line in env_lines if line and not line.startswith("#")]
    assert len(variables) == len(set(variables))
    assert all(v.replace("_", "").isalnum() and v.isupper() for v in variables), variables
    readme = (generated / "README.md").read_text(encoding="utf-8")
    table = [line for line in readme.splitlines() if line.startswith("| `do_thing`")]
    assert len(table) == 1 and table[0].count(" | ") == 2, table
    assert "<script>" not in readme and "\u202e" not in readme


def test_agents_see_the_text_verbatim(generated: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def record(request: Request) -> Response:
        body = await request.body()
        raw_path = request.scope["raw_path"].decode()
        seen.append((raw_path, request.url.query, dict(request.headers), body))
        return JSONResponse({"import": ENUM[1]})

    upstream = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    site = project.pip_install(generated, tmp_path / "site")
    port = net.free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with net.serve_in_thread(upstream) as base:
        env = {"PYTHONPATH": str(site), "UPSTREAM_BASE_URL": base, "UPSTREAM_KEY_S_KEY": "k"}
        argv = [str(site / "bin" / "hostile-mcp"), "--transport", "http", "--port", str(port)]
        with procs.start_process(argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz"):
            tool, instructions, prompt, result = anyio.run(_session, url)
    assert instructions == EVIL
    assert tool.title == EVIL
    assert tool.description == f"{EVIL}\n\n{MULTILINE}"
    schema = tool.input_schema["properties"]
    assert schema["def"]["enum"] == ENUM and schema["type"]["enum"] == ENUM
    assert schema["from"]["description"] == EVIL
    assert {"class", "from", "list", "type", "upstream", "X-Trace", "lambda", "True"} <= set(schema)
    assert prompt == 'About x"y: {{ x }} """ \\ ${HOME}'
    assert not result.is_error, mcpclient.text_of(result)
    assert result.structured_content == {"import": ENUM[1]}
    ((path, query, headers, body),) = seen
    assert path == "/things/a%2Fb/say%22hi%22%5C"
    assert json.loads(body) == {"def": ENUM[1], "lambda": 3, "True": False}
    assert "from=%7B%7B" in query and "type=a%7Cb" in query and "upstream=true" in query
    assert headers["x-trace"] == "t"
    assert headers["x-api-key"] == "k"


async def _session(url: str) -> tuple[Any, str | None, str, Any]:
    async with mcpclient.connect(url, mode="legacy") as client:
        instructions = client.instructions
        tools = (await client.list_tools()).tools
        prompt = await client.get_prompt("evil", {"topic": 'x"y'})
        result = await client.call_tool(
            "do_thing",
            {
                "class": "a/b",
                "from": "{{ x }}",
                "type": "a|b",
                "upstream": True,
                "X-Trace": "t",
                "def": ENUM[1],
                "lambda": 3,
                "True": False,
            },
        )
    text = prompt.messages[0].content
    return tools[0], instructions, getattr(text, "text", ""), result
