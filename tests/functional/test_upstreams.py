"""The example upstream APIs behave as their specs say, and the test harness works.

The upstreams (specs/*/upstream.py) are what generated MCP servers call in the
functional tests, so they are tested here against their OpenAPI documents; the
harness (tests/support) is exercised end to end with a hand-written MCP server,
the Python SDK client, the MCP Inspector CLI and the conformance suite.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import MCPError
from starlette.types import ASGIApp, Receive, Scope, Send

import specs.bookshop.upstream as bookshop
import specs.tasks.upstream as tasks
from tests.support import mcpclient, net, node, procs

API_KEY = "test-api-key"
TOKEN = "test-token"
REPO = Path(__file__).resolve().parents[2]
BOOK_KEYS = ["id", "title", "author_id", "genre", "tags", "published", "rating"]
TASK_KEYS = ["id", "project_id", "title", "status", "priority", "assignee", "labels", "subtasks"]


class Swappable:
    """Forwards to `app`, so one server per module can serve a fresh app per test."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # the upstream apps have no start-up or shut-down work
        assert self.app is not None, "no app installed"
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Swappable, str]]:
    swappable = Swappable()
    with net.serve_in_thread(swappable) as url:
        yield swappable, url


@pytest.fixture
def shop(server: tuple[Swappable, str]) -> Iterator[tuple[httpx.Client, bookshop.RequestLog]]:
    swappable, url = server
    swappable.app, log = bookshop.create_app(api_key=API_KEY)
    with httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=5) as client:
        yield client, log


@pytest.fixture
def tracker(server: tuple[Swappable, str]) -> Iterator[tuple[httpx.Client, tasks.RequestLog]]:
    swappable, url = server
    swappable.app, log = tasks.create_app(token=TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=5) as client:
        yield client, log


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# --- bookshop ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing X-API-Key header"), ({"X-API-Key": "wrong"}, "invalid API key")],
)
def test_bookshop_rejects_missing_or_wrong_api_key(
    shop: tuple[httpx.Client, bookshop.RequestLog], headers: dict[str, str], message: str
) -> None:
    client, log = shop
    response = httpx.get(client.base_url.join("/v1/books"), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": message}
    assert log.last().status == 401


def test_bookshop_lists_books_newest_first_with_the_book_schema(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    response = client.get("/v1/books")
    assert response.status_code == 200
    page = response.json()
    assert list(page) == ["items", "next_cursor"]
    assert page["next_cursor"] is None
    assert ids(page["items"]) == ["b5", "b4", "b3", "b2", "b1"]
    assert page["items"][-1] == {
        "id": "b1",
        "title": "A Wizard of Earthsea",
        "author_id": 1,
        "genre": "fiction",
        "tags": ["fantasy", "classic"],
        "published": "1968-11-01",
        "rating": 4.5,
    }
    unpublished = page["items"][0]
    assert unpublished["published"] is None
    assert unpublished["rating"] is None
    assert "genre" not in unpublished  # genre is not nullable: absent when unknown
    for item in page["items"]:
        assert [key for key in BOOK_KEYS if key in item] == list(item)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("author=le+guin", ["b2", "b1"]),
        ("genre=fiction", ["b2", "b1"]),
        ("tags=classic&tags=fantasy", ["b1"]),
        ("tags=classic", ["b2", "b1"]),
        ("limit=2", ["b5", "b4"]),
        ("author=Sagan&genre=poetry", []),
    ],
)
def test_bookshop_filters_books(
    shop: tuple[httpx.Client, bookshop.RequestLog], query: str, expected: list[str]
) -> None:
    client, _ = shop
    response = client.get(f"/v1/books?{query}")
    assert response.status_code == 200
    assert ids(response.json()["items"]) == expected


def test_bookshop_returns_only_the_requested_fields(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    response = client.get("/v1/books?fields=id,title&limit=1")
    assert response.json()["items"] == [{"id": "b5", "title": "Upcoming Essays"}]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=ten", "genre=romance", "fields=id,isbn", "limit=1&limit=2"],
)
def test_bookshop_rejects_invalid_query_parameters(
    shop: tuple[httpx.Client, bookshop.RequestLog], query: str
) -> None:
    client, _ = shop
    response = client.get(f"/v1/books?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert query.split("=", maxsplit=1)[0] in response.json()["message"]


def test_bookshop_gets_a_book_or_answers_404_with_an_error_body(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    assert client.get("/v1/books/b3").json()["title"] == "Cosmos"
    response = client.get("/v1/books/b99")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "book 'b99' not found"}


@pytest.mark.parametrize(
    ("raw_path", "book_id"),
    [("/v1/books/..%2Fadmin", "../admin"), ("/v1/books/a%20b%3Fc", "a b?c")],
)
def test_bookshop_logs_the_raw_path_and_decodes_it_as_one_id(
    shop: tuple[httpx.Client, bookshop.RequestLog], raw_path: str, book_id: str
) -> None:
    client, log = shop
    response = client.get(raw_path)
    assert response.status_code == 404
    assert response.json()["message"] == f"book {book_id!r} not found"
    assert log.last().raw_path == raw_path
    assert log.last().query == ""


def test_bookshop_creates_replaces_and_deletes_a_book(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    created = client.post("/v1/books", json={"title": "Pale Fire", "author_id": 2})
    assert created.status_code == 201
    book = {
        "id": "b6",
        "title": "Pale Fire",
        "author_id": 2,
        "tags": [],
        "published": None,
        "rating": None,
    }
    assert created.json() == book
    assert client.get("/v1/books/b6").json() == book
    replacement = {
        "title": "Pale Fire",
        "author_id": 2,
        "genre": "fiction",
        "tags": ["novel"],
        "published": "1962-04-01",
        "id": "ignored",
    }
    replaced = client.put("/v1/books/b6", json=replacement)
    assert replaced.status_code == 200
    assert replaced.json() == {
        **book,
        "genre": "fiction",
        "tags": ["novel"],
        "published": "1962-04-01",
    }
    deleted = client.delete("/v1/books/b6")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get("/v1/books/b6").status_code == 404
    assert client.delete("/v1/books/b6").status_code == 404


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"author_id": 1}, "title"),
        ({"title": "", "author_id": 1}, "title"),
        ({"title": "x" * 201, "author_id": 1}, "title"),
        ({"title": "T"}, "author_id"),
        ({"title": "T", "author_id": "1"}, "author_id"),
        ({"title": "T", "author_id": True}, "author_id"),
        ({"title": "T", "author_id": 99}, "author_id"),
        ({"title": "T", "author_id": 1, "genre": "romance"}, "genre"),
        ({"title": "T", "author_id": 1, "tags": "a,b"}, "tags"),
        ({"title": "T", "author_id": 1, "published": "1962"}, "published"),
        ({"title": "T", "author_id": 1, "published": "1962-02-30"}, "published"),
        ([], "body"),
    ],
)
def test_bookshop_rejects_invalid_book_bodies(
    shop: tuple[httpx.Client, bookshop.RequestLog], body: Any, location: str
) -> None:
    client, _ = shop
    response = client.post("/v1/books", json=body)
    assert response.status_code == 422
    assert response.json()["message"].startswith(f"{location}:")


def test_bookshop_rejects_bodies_that_are_not_json(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    broken = client.post("/v1/books", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422
    form = client.post("/v1/books", data={"title": "T", "author_id": "1"})
    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"


def test_bookshop_reviews_update_the_rating(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    review = client.post("/v1/books/b3/reviews", json={"rating": 3, "text": "Vast."})
    assert review.status_code == 201
    assert review.json() == {"id": "r5", "rating": 3, "text": "Vast."}
    assert client.post("/v1/books/b3/reviews", json={"rating": 4}).json() == {
        "id": "r6",
        "rating": 4,
    }
    assert client.get("/v1/books/b3").json()["rating"] == 3.5
    assert client.post("/v1/books/b3/reviews", json={"rating": 6}).status_code == 422
    assert client.post("/v1/books/b3/reviews", json={"text": "no rating"}).status_code == 422
    assert client.post("/v1/books/b99/reviews", json={"rating": 1}).status_code == 404


def test_bookshop_lists_an_authors_books(shop: tuple[httpx.Client, bookshop.RequestLog]) -> None:
    client, _ = shop
    assert ids(client.get("/v1/authors/1/books").json()) == ["b1", "b2"]
    assert client.get("/v1/authors/99/books").status_code == 404
    assert client.get("/v1/authors/one/books").status_code == 422


def test_bookshop_category_trees_follow_depth(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    assert client.get("/v1/categories/fantasy?depth=0").json() == {
        "id": "fantasy",
        "name": "Fantasy",
    }
    assert client.get("/v1/categories/fantasy").json() == {
        "id": "fantasy",
        "name": "Fantasy",
        "children": [{"id": "epic-fantasy", "name": "Epic fantasy"}],
    }
    tree = client.get("/v1/categories/non-fiction?depth=2").json()
    assert tree["children"][0] == {
        "id": "science",
        "name": "Science",
        "children": [{"id": "astronomy", "name": "Astronomy"}],
    }
    assert client.get("/v1/categories/fiction?depth=6").status_code == 422
    assert client.get("/v1/categories/romance").status_code == 404


def test_bookshop_answers_unknown_routes_and_methods_with_error_bodies(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, _ = shop
    missing = client.get("/v1/publishers")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert client.get("/books").status_code == 404  # the base path is /v1
    wrong_method = client.patch("/v1/books/b1", json={})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "DELETE, GET, HEAD, PUT"
    assert wrong_method.json()["code"] == "method_not_allowed"


def test_bookshop_log_records_each_request_exactly(
    shop: tuple[httpx.Client, bookshop.RequestLog],
) -> None:
    client, log = shop
    log.clear()
    body = b'{"title": "Dune", "author_id": 2, "tags": ["a b"]}'
    response = client.post(
        "/v1/books?dry%20run=1&tags=x&tags=y",
        content=body,
        headers={"Content-Type": "application/json", "X-Request-Id": "req-1"},
    )
    assert response.status_code == 201
    [record] = log.requests
    assert record.method == "POST"
    assert record.raw_path == "/v1/books"
    assert record.query == "dry%20run=1&tags=x&tags=y"
    assert record.target == "/v1/books?dry%20run=1&tags=x&tags=y"
    assert record.query_params() == [("dry run", "1"), ("tags", "x"), ("tags", "y")]
    assert record.headers["x-request-id"] == "req-1"
    assert record.headers["x-api-key"] == API_KEY
    assert record.headers["content-type"] == "application/json"
    assert all(name == name.lower() for name in record.headers)
    assert record.body == body
    assert record.json() == {"title": "Dune", "author_id": 2, "tags": ["a b"]}
    assert record.status == 201


def test_bookshop_echoes_the_request_id(shop: tuple[httpx.Client, bookshop.RequestLog]) -> None:
    client, _ = shop
    response = client.get("/v1/books", headers={"X-Request-Id": "corr-7"})
    assert response.headers["x-request-id"] == "corr-7"


# --- tasks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "detail", "challenge"),
    [
        ({}, "missing bearer token", 'Bearer realm="tasks"'),
        ({"Authorization": "Basic dXNlcg=="}, "missing bearer token", 'Bearer realm="tasks"'),
        (
            {"Authorization": "Bearer nope"},
            "invalid bearer token",
            'Bearer realm="tasks", error="invalid_token"',
        ),
    ],
)
def test_tasks_rejects_missing_or_wrong_tokens(
    tracker: tuple[httpx.Client, tasks.RequestLog],
    headers: dict[str, str],
    detail: str,
    challenge: str,
) -> None:
    client, _ = tracker
    response = httpx.get(client.base_url.join("/projects"), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert response.json() == {"title": "Unauthorized", "detail": detail, "status": 401}


def test_tasks_lists_projects_by_archived_flag(
    tracker: tuple[httpx.Client, tasks.RequestLog],
) -> None:
    client, _ = tracker
    assert client.get("/projects").json() == [
        {
            "id": "p1",
            "name": "Website relaunch",
            "description": "Replace the marketing site.",
            "archived": False,
        },
        {"id": "p2", "name": "Mobile app", "description": None, "archived": False},
    ]
    assert ids(client.get("/projects?archived=true").json()) == ["p3"]
    assert ids(client.get("/projects?archived=false").json()) == ["p1", "p2"]
    invalid = client.get("/projects?archived=yes")
    assert invalid.status_code == 422
    assert invalid.json()["title"] == "Unprocessable Content"


def test_tasks_creates_projects(tracker: tuple[httpx.Client, tasks.RequestLog]) -> None:
    client, _ = tracker
    created = client.post("/projects", json={"name": "Docs", "description": None})
    assert created.status_code == 201
    assert created.json() == {"id": "p4", "name": "Docs", "description": None, "archived": False}
    assert ids(client.get("/projects").json()) == ["p1", "p2", "p4"]
    assert client.post("/projects", json={"name": ""}).status_code == 422
    assert client.post("/projects", json={"name": "X", "description": 3}).status_code == 422


def test_tasks_lists_top_level_tasks_with_nested_subtasks(
    tracker: tuple[httpx.Client, tasks.RequestLog],
) -> None:
    client, _ = tracker
    listed = client.get("/projects/p1/tasks").json()
    assert ids(listed) == ["t1", "t4"]
    notes = listed[0]
    assert list(notes) == TASK_KEYS
    assert ids(notes["subtasks"]) == ["t2", "t3"]
    assert notes["subtasks"][0] == {
        "id": "t2",
        "project_id": "p1",
        "title": "Collect merged changes",
        "status": "done",
        "assignee": None,
        "labels": ["docs"],
        "subtasks": [],
    }  # priority is not nullable: absent when unset


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=doing", ["t4"]),
        ("label=urgent&label=docs", ["t1", "t4"]),
        ("label=infra", []),
        ("due_before=2026-12-01T00:00:00Z", ["t4"]),
        ("due_before=2026-12-01T18:30:00%2B01:00", ["t1", "t4"]),
    ],
)
def test_tasks_filters_tasks(
    tracker: tuple[httpx.Client, tasks.RequestLog], query: str, expected: list[str]
) -> None:
    client, _ = tracker
    response = client.get(f"/projects/p1/tasks?{query}")
    assert response.status_code == 200
    assert ids(response.json()) == expected


@pytest.mark.parametrize("query", ["status=blocked", "due_before=2026-12-01", "status=a&status=b"])
def test_tasks_rejects_invalid_filters(
    tracker: tuple[httpx.Client, tasks.RequestLog], query: str
) -> None:
    client, _ = tracker
    assert client.get(f"/projects/p1/tasks?{query}").status_code == 422


def test_tasks_creates_nested_tasks(tracker: tuple[httpx.Client, tasks.RequestLog]) -> None:
    client, _ = tracker
    body = {
        "title": "Launch",
        "priority": 1,
        "labels": ["release"],
        "subtasks": [{"title": "Announce", "assignee": "bo", "subtasks": [{"title": "Draft"}]}],
    }
    created = client.post("/projects/p2/tasks", json=body)
    assert created.status_code == 201
    task = created.json()
    assert task == {
        "id": "t6",
        "project_id": "p2",
        "title": "Launch",
        "status": "todo",
        "priority": 1,
        "assignee": None,
        "labels": ["release"],
        "subtasks": [
            {
                "id": "t7",
                "project_id": "p2",
                "title": "Announce",
                "status": "todo",
                "assignee": "bo",
                "labels": [],
                "subtasks": [
                    {
                        "id": "t8",
                        "project_id": "p2",
                        "title": "Draft",
                        "status": "todo",
                        "assignee": None,
                        "labels": [],
                        "subtasks": [],
                    }
                ],
            }
        ],
    }
    assert [c["change"] for c in client.get("/tasks/t8/history").json()] == ["created"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "title:"),
        ({"title": "T", "priority": 4}, "priority:"),
        ({"title": "T", "priority": True}, "priority:"),
        ({"title": "T", "labels": [1]}, "labels:"),
        (
            {"title": "T", "subtasks": [{"title": "S", "subtasks": [{}]}]},
            "subtasks[0].subtasks[0].title:",
        ),
    ],
)
def test_tasks_rejects_invalid_task_bodies(
    tracker: tuple[httpx.Client, tasks.RequestLog], body: dict[str, Any], detail: str
) -> None:
    client, _ = tracker
    response = client.post("/projects/p1/tasks", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)
    assert response.json()["status"] == 422


def test_tasks_answers_404_with_a_problem_body(
    tracker: tuple[httpx.Client, tasks.RequestLog],
) -> None:
    client, _ = tracker
    response = client.post("/projects/p9/tasks", json={"title": "T"})
    assert response.status_code == 404
    assert response.json() == {
        "title": "Not Found",
        "detail": "project 'p9' not found",
        "status": 404,
    }


def test_tasks_updates_tasks_and_records_history(
    tracker: tuple[httpx.Client, tasks.RequestLog],
) -> None:
    client, _ = tracker
    updated = client.patch("/tasks/t4", json={"status": "done", "assignee": "bo"})
    assert updated.status_code == 200
    assert updated.json()["status"] == "done"
    assert updated.json()["assignee"] == "bo"
    assert client.patch("/tasks/t4", json={"assignee": None}).json()["assignee"] is None
    history = client.get("/tasks/t4/history").json()
    assert [entry["change"] for entry in history] == [
        "created",
        "status changed from todo to doing",
        "status changed from doing to done",
        "assigned to bo",
        "unassigned",
    ]
    assert history[0] == {"at": "2026-11-04T08:15:00Z", "change": "created"}
    assert client.patch("/tasks/t4", json={"status": "blocked"}).status_code == 422
    assert client.patch("/tasks/t99", json={}).status_code == 404


def test_tasks_deletes_a_task_and_its_subtasks(
    tracker: tuple[httpx.Client, tasks.RequestLog],
) -> None:
    client, _ = tracker
    deleted = client.delete("/tasks/t1")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get("/tasks/t2/history").status_code == 404
    assert ids(client.get("/projects/p1/tasks").json()) == ["t4"]
    assert client.delete("/tasks/t1").status_code == 404


def test_tasks_logs_the_raw_path_and_decodes_it_as_one_id(
    tracker: tuple[httpx.Client, tasks.RequestLog],
) -> None:
    client, log = tracker
    response = client.delete("/tasks/t4%2Fhistory")
    assert response.status_code == 404
    assert response.json()["detail"] == "task 't4/history' not found"
    assert log.last().raw_path == "/tasks/t4%2Fhistory"
    assert log.last().method == "DELETE"
    assert client.get("/tasks/t4/history").status_code == 200  # not deleted


# --- running the upstreams by hand ---------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "flag", "banner", "path", "header"),
    [
        ("bookshop", "--api-key", "Bookshop API: {url}/v1", "/v1/books/b1", "X-API-Key: {secret}"),
        ("tasks", "--token", "Tasks API: {url}", "/projects", "Authorization: Bearer {secret}"),
    ],
)
def test_upstream_scripts_serve_with_the_printed_credentials(
    script: str, flag: str, banner: str, path: str, header: str
) -> None:
    port = net.free_port()
    url, secret = f"http://{net.HOST}:{port}", "s3cret"
    argv = [sys.executable, f"specs/{script}/upstream.py", "--port", str(port), flag, secret]
    with procs.start_process(
        argv, cwd=REPO, ready_url=f"{url}{path}", ready_status=401, ready_timeout=30
    ) as proc:
        name, value = header.format(secret=secret).split(": ")
        assert httpx.get(f"{url}{path}", headers={name: value}, timeout=5).status_code == 200
        assert banner.format(url=url) in proc.stdout()
        assert header.format(secret=secret) in proc.stdout()


# --- harness -------------------------------------------------------------------------------


def test_serve_in_thread_stops_the_server_on_exit() -> None:
    app, _ = bookshop.create_app()
    with net.serve_in_thread(app) as url:
        port = int(url.rsplit(":", 1)[1])
        assert httpx.get(f"{url}/v1/books", timeout=5).status_code == 401
    with pytest.raises(OSError), socket.create_connection((net.HOST, port), timeout=1):
        pass


def test_start_process_fails_with_the_stderr_of_a_process_that_died() -> None:
    script = "import sys; sys.stderr.write('boom: no config'); sys.exit(3)"
    url = f"http://{net.HOST}:{net.free_port()}/healthz"
    with (
        pytest.raises(pytest.fail.Exception, match=r"(?s)exited with 3.*boom: no config"),
        procs.start_process([sys.executable, "-c", script], ready_url=url, ready_timeout=10),
    ):
        pass


def test_start_process_gives_up_on_a_silent_process_and_kills_its_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {pid_file}; echo waiting >&2; wait"
    url = f"http://{net.HOST}:{net.free_port()}/healthz"
    started = time.monotonic()
    with (
        pytest.raises(pytest.fail.Exception, match=r"(?s)did not answer 200 within 1 s.*waiting"),
        procs.start_process(["sh", "-c", script], ready_url=url, ready_timeout=1),
    ):
        pass
    assert time.monotonic() - started < 10
    assert not _alive(int(pid_file.read_text()))


def test_node_tools_fail_clearly_when_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node.node_tools.cache_clear()
    monkeypatch.setattr(node, "NODE_MODULES", tmp_path)
    try:
        with pytest.raises(
            pytest.fail.Exception, match=r"Node tools missing: run scripts/install\.sh"
        ):
            node.node_tools()
    finally:
        node.node_tools.cache_clear()


def test_run_bounded_kills_a_process_that_overruns() -> None:
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match=r"did not finish within 0\.5 s"):
        procs.run_bounded(["sleep", "30"], timeout=0.5)
    assert time.monotonic() - started < 10


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False  # killed; waiting to be reaped
        time.sleep(0.05)
    return True


SMOKE_SERVER = """
import sys

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

server = MCPServer("smoke", version="0.0.1")


@server.tool(name="repeat", description="Repeat a text a number of times.")
async def repeat(text: str, times: int = 1) -> str:
    return " ".join([text] * times)


@server.custom_route("/healthz", methods=["GET"])
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


port = int(sys.argv[1])
app = server.streamable_http_app(
    streamable_http_path="/mcp",
    stateless_http=True,
    transport_security=TransportSecuritySettings(
        allowed_hosts=[f"127.0.0.1:{port}"], allowed_origins=[f"http://127.0.0.1:{port}"]
    ),
)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


@pytest.fixture(scope="module")
def smoke_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    script = tmp_path_factory.mktemp("smoke") / "server.py"
    script.write_text(SMOKE_SERVER, encoding="utf-8")
    port = net.free_port()
    base = f"http://{net.HOST}:{port}"
    with procs.start_process(
        [sys.executable, str(script), str(port)], ready_url=f"{base}/healthz", ready_timeout=30
    ):
        yield f"{base}/mcp"


@pytest.mark.parametrize(("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_python_client_calls_the_smoke_server(smoke_url: str, mode: str, version: str) -> None:
    async def session() -> tuple[str, list[str]]:
        async with mcpclient.connect(smoke_url, mode=mode, timeout=10) as client:
            tools = await client.list_tools()
            return client.protocol_version, [tool.name for tool in tools.tools]

    assert anyio.run(session) == (version, ["repeat"])
    result = mcpclient.call_tool_sync(smoke_url, "repeat", {"text": "hi", "times": 2}, mode=mode)
    assert not result.is_error
    assert mcpclient.text_of(result) == "hi hi"
    assert result.structured_content == {"result": "hi hi"}
    unknown = mcpclient.call_tool_sync(smoke_url, "nope", {}, mode=mode)
    assert unknown.is_error


def test_python_client_sends_the_given_headers(server: tuple[Swappable, str]) -> None:
    swappable, url = server
    swappable.app, log = bookshop.create_app()  # not an MCP server: answers 401
    headers = {"Authorization": "Bearer T", "X-Trace": "1"}
    with pytest.raises(MCPError):
        mcpclient.call_tool_sync(f"{url}/mcp", "x", headers=headers, mode="legacy", timeout=10)
    first = log.requests[0]
    assert (first.method, first.raw_path, first.status) == ("POST", "/mcp", 401)
    assert first.json()["method"] == "initialize"
    assert first.headers["authorization"] == "Bearer T"
    assert first.headers["x-trace"] == "1"


def test_python_client_gives_up_on_a_server_that_never_answers() -> None:
    with socket.socket() as silent:
        silent.bind((net.HOST, 0))
        silent.listen()  # connections queue up; nothing ever reads or answers them
        url = f"http://{net.HOST}:{silent.getsockname()[1]}/mcp"
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            mcpclient.call_tool_sync(url, "repeat", {"text": "hi"}, timeout=1)
        assert time.monotonic() - started < 5


def test_python_client_lists_tools(smoke_url: str) -> None:
    [tool] = mcpclient.list_tools_sync(smoke_url)
    assert tool.name == "repeat"
    assert tool.input_schema["required"] == ["text"]


@pytest.mark.node
@pytest.mark.parametrize("era", [[], ["--protocol-era", "modern"]])
def test_inspector_cli_calls_the_smoke_server(smoke_url: str, era: list[str]) -> None:
    call = ["--method", "tools/call", "--tool-name", "repeat", "--format", "json", "-q"]
    done = node.inspector_cli(
        smoke_url, *era, *call, "--tool-arg", "text=hi", "times=3", timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["result"]
    assert result["content"] == [{"type": "text", "text": "hi hi hi"}]
    assert result["structuredContent"] == {"result": "hi hi hi"}
    assert result["isError"] is False


@pytest.mark.node
def test_inspector_cli_reports_tool_errors_on_stderr(smoke_url: str) -> None:
    call = ["--method", "tools/call", "--format", "json", "-q"]
    unknown = node.inspector_cli(smoke_url, *call, "--tool-name", "nope", timeout=60)
    assert unknown.returncode == 5
    assert unknown.stdout == ""
    assert json.loads(unknown.stderr)["error"]["code"] == "tool_not_found"
    failing = node.inspector_cli(smoke_url, *call, "--tool-name", "repeat", timeout=60)
    assert failing.returncode == 5
    assert json.loads(failing.stdout)["result"]["isError"] is True
    assert json.loads(failing.stderr)["error"]["code"] == "tool_is_error"


@pytest.mark.node
def test_inspector_cli_keeps_its_files_out_of_the_real_home(smoke_url: str) -> None:
    home = Path.home() / ".mcp-inspector"
    before = home.exists()
    done = node.inspector_cli(smoke_url, "--method", "tools/list", "--format", "json", "-q")
    assert done.returncode == 0, done.stderr
    assert [tool["name"] for tool in json.loads(done.stdout)["result"]["tools"]] == ["repeat"]
    assert home.exists() == before


@pytest.mark.node
def test_conformance_server_initialize_passes(smoke_url: str, tmp_path: Path) -> None:
    outdir = tmp_path / "conformance"
    done = node.conformance_server(smoke_url, outdir, "--scenario", "server-initialize")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed: 1/1, 0 failed" in done.stdout
    checks = node.conformance_checks(outdir)
    assert list(checks) == ["server-initialize"]
    [check] = checks["server-initialize"]
    assert check["id"] == "server-initialize"
    assert check["status"] == "SUCCESS"


@pytest.mark.node
def test_conformance_reports_a_failing_scenario(smoke_url: str, tmp_path: Path) -> None:
    outdir = tmp_path / "conformance"
    done = node.conformance_server(smoke_url, outdir, "--scenario", "prompts-get-simple")
    assert done.returncode == 1
    [check] = node.conformance_checks(outdir)["prompts-get-simple"]
    assert check["status"] == "FAILURE"
    [run_dir] = outdir.iterdir()
    assert run_dir.name.startswith("server-prompts-get-simple-")
    assert [path.name for path in run_dir.iterdir()] == ["checks.json"]
