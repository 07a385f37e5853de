"""Specs with awkward metadata still give a project that installs and starts.

Regressions from the real-spec corpus: quotes and backslashes in titles and descriptions
broke pyproject.toml; versions that are not PEP 440 broke pip; a spec without an absolute
server URL gave a server that refused to start.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import mcpclient, net, procs, project

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": 'Quote\'s "API" \\ test',
        "version": "2018-06-01T00:00:00Z",
        "description": "It's a \\backslash\nand a second line.",
    },
    "servers": [{"url": "/relative"}],
    "paths": {
        "/x": {
            "get": {
                "operationId": "getX",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    },
}


def test_awkward_metadata_installs_starts_and_explains(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(SPEC))
    generated = project.generate(spec, tmp_path / "project", "--name", "odd")
    site = project.pip_install(generated, tmp_path / "site")
    port = net.free_port()
    argv = [str(site / "bin" / "odd-mcp"), "--transport", "http", "--port", str(port)]
    env = {"PYTHONPATH": str(site), "UPSTREAM_BASE_URL": None}
    with procs.start_process(argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz"):
        result = mcpclient.call_tool_sync(f"http://127.0.0.1:{port}/mcp", "get_x", {})
    assert result.is_error
    assert "set UPSTREAM_BASE_URL" in mcpclient.text_of(result)


def test_a_spec_without_operations_gives_a_server_with_no_tools(tmp_path: Path) -> None:
    """OpenAPI 3.1 allows a document of webhooks only: the project still starts and lists
    nothing (its tools/listing.json has no operation)."""
    spec = tmp_path / "openapi.json"
    spec.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "Hooks only", "version": "1.0.0"},
                "webhooks": {"ping": {"post": {"responses": {"200": {"description": "ok"}}}}},
            }
        )
    )
    generated = project.generate(spec, tmp_path / "project", "--name", "hooks")
    site = project.pip_install(generated, tmp_path / "site")
    port = net.free_port()
    argv = [str(site / "bin" / "hooks-mcp"), "--transport", "http", "--port", str(port)]
    env = {"PYTHONPATH": str(site), "UPSTREAM_BASE_URL": "http://127.0.0.1:9"}
    with procs.start_process(argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz"):
        assert mcpclient.list_tools_sync(f"http://127.0.0.1:{port}/mcp") == []
