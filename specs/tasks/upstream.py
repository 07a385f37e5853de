"""A small in-memory implementation of the Tasks API (specs/tasks/openapi.json).

Run it by hand::

    .venv/bin/python specs/tasks/upstream.py --port 9000 [--token TOKEN]

It listens on 127.0.0.1 only and requires `Authorization: Bearer TOKEN` on every
request (the token is printed at start-up). Errors are Problem objects
(`title`, `detail`, `status`).

In tests::

    app, log = create_app(token="t")        # a Starlette app and its RequestLog
    ...send requests...
    log.last().raw_path                      # e.g. "/tasks/t%2F1", as on the wire

Every request is recorded before it is handled, so the log already holds it when
the client sees the response. Paths are matched on the raw, still percent-encoded
path: `/tasks/..%2Fadmin` is the task whose id is `../admin`.
"""

from __future__ import annotations

import argparse
import hmac
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeGuard
from urllib.parse import parse_qsl, unquote_to_bytes

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_TOKEN", "RecordedRequest", "RequestLog", "create_app", "main"]

DEFAULT_TOKEN = "tasks-demo-token"
STATUSES = ("todo", "doing", "done")
PRIORITIES = (1, 2, 3)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


# --- request log -------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as received: `raw_path` and `query` exactly as sent on the wire."""

    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # set just before the response starts

    @property
    def target(self) -> str:
        """`raw_path` plus `?query` when there is one."""
        return f"{self.raw_path}?{self.query}" if self.query else self.raw_path

    def query_params(self) -> list[tuple[str, str]]:
        """The decoded query parameters, in order, repeats kept."""
        return parse_qsl(self.query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


class RequestLog:
    """Every request an app received, oldest first; safe to read from another thread."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._items.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def last(self) -> RecordedRequest:
        with self._lock:
            if not self._items:
                raise LookupError("no request was received")
            return self._items[-1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class _RecordRequests:
    """Record each request, then route it on its raw (still percent-encoded) path."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        raw_path: str = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        record = RecordedRequest(
            scope["method"], raw_path, scope["query_string"].decode("latin-1"), headers, bytes(body)
        )
        self.log.append(record)

        async def replay() -> Message:
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app({**scope, "path": raw_path}, replay, send_status)


class _RequireBearer:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not given:
                challenge = 'Bearer realm="tasks"'
                response = _problem(401, "missing bearer token", {"WWW-Authenticate": challenge})
                await response(scope, receive, send)
                return
            if not hmac.compare_digest(given.strip(), self.token):
                challenge = 'Bearer realm="tasks", error="invalid_token"'
                response = _problem(401, "invalid bearer token", {"WWW-Authenticate": challenge})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --- errors and request parsing ---------------------------------------------------------


class _InvalidRequestError(Exception):
    """A request the spec does not allow: answered 422 with a Problem body."""


# Fixed titles: HTTPStatus phrases differ between Python versions (422 changed in 3.13).
_TITLES = {
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
}


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    title = _TITLES.get(status) or HTTPStatus(status).phrase
    body = {"title": title, "detail": detail, "status": status}
    return JSONResponse(body, status, headers=headers)


def _path_param(request: Request, name: str) -> str:
    raw: str = request.path_params[name]
    return unquote_to_bytes(raw.encode("latin-1")).decode("utf-8", "replace")


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise _InvalidRequestError(f"{name}: given {len(values)} times, expected once")
    return values[0] if values else None


async def _json_body(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, f"expected Content-Type application/json, got {media_type!r}")
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise _InvalidRequestError(f"body: not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise _InvalidRequestError("body: must be a JSON object")
    return body


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_string(body: dict[str, Any], name: str, where: str = "") -> None:
    if body.get(name) is not None and not isinstance(body[name], str):
        raise _InvalidRequestError(f"{where}{name}: must be a string or null")


def _parse_date_time(text: str, name: str) -> datetime:
    if _DATE_TIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text.upper())
        except ValueError:
            pass
    raise _InvalidRequestError(f"{name}: must be an RFC 3339 date-time, got {text!r}")


def _task_input(body: Any, where: str = "") -> dict[str, Any]:
    """Validate a TaskInput (sub-tasks included); `where` prefixes error locations."""
    if not isinstance(body, dict):
        raise _InvalidRequestError(f"{where or 'body'}: must be a JSON object")
    title = body.get("title")
    if not isinstance(title, str) or not title:
        raise _InvalidRequestError(f"{where}title: required, a non-empty string")
    priority = body.get("priority")
    if "priority" in body and (not _is_int(priority) or priority not in PRIORITIES):
        raise _InvalidRequestError(f"{where}priority: must be 1, 2 or 3")
    _optional_string(body, "assignee", where)
    labels = body.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise _InvalidRequestError(f"{where}labels: must be an array of strings")
    subtasks = body.get("subtasks", [])
    if not isinstance(subtasks, list):
        raise _InvalidRequestError(f"{where}subtasks: must be an array")
    return {
        "title": title,
        "priority": priority,
        "assignee": body.get("assignee"),
        "labels": list(labels),
        "subtasks": [_task_input(sub, f"{where}subtasks[{i}].") for i, sub in enumerate(subtasks)],
    }


# --- the tracker ---------------------------------------------------------------------------


@dataclass
class _Task:
    id: str
    project_id: str
    title: str
    priority: int | None
    assignee: str | None
    labels: list[str]
    parent: str | None
    status: str = "todo"
    due: datetime | None = None  # not exposed by the API, but filterable (due_before)
    subtasks: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)


_PROJECTS = (
    ("Website relaunch", "Replace the marketing site.", False),
    ("Mobile app", None, False),
    ("Legacy CRM migration", "Finished in 2025.", True),
)
_SEED_TIME = "2026-11-02T09:00:00Z"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Tracker:
    """The tracker's state and one handler per operation."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, _Task] = {}
        self.task_count = 0
        for name, description, archived in _PROJECTS:
            project_id = f"p{len(self.projects) + 1}"
            self.projects[project_id] = {
                "id": project_id,
                "name": name,
                "description": description,
                "archived": archived,
            }
        self._seed()

    def _seed(self) -> None:
        notes = self._add_task(
            "p1",
            {
                "title": "Write the release notes",
                "priority": 2,
                "assignee": "ana",
                "labels": ["docs"],
                "subtasks": [
                    {"title": "Collect merged changes", "labels": ["docs"]},
                    {"title": "Proofread", "labels": []},
                ],
            },
            None,
            _SEED_TIME,
        )
        notes.due = datetime(2026, 12, 1, 17, tzinfo=UTC)
        self._change(self.tasks[notes.subtasks[0]], "status", "done", "2026-11-03T10:30:00Z")
        landing = self._add_task(
            "p1",
            {
                "title": "Redesign the landing page",
                "priority": 1,
                "labels": ["design", "urgent"],
            },
            None,
            "2026-11-04T08:15:00Z",
        )
        landing.due = datetime(2026, 11, 30, 12, tzinfo=UTC)
        self._change(landing, "status", "doing", "2026-11-05T14:00:00Z")
        self._add_task(
            "p2",
            {"title": "Set up CI", "priority": 3, "labels": ["infra"]},
            None,
            "2026-11-06T11:45:00Z",
        )

    def _add_task(
        self, project_id: str, spec: dict[str, Any], parent: str | None, at: str
    ) -> _Task:
        self.task_count += 1
        task = _Task(
            id=f"t{self.task_count}",
            project_id=project_id,
            title=spec["title"],
            priority=spec.get("priority"),
            assignee=spec.get("assignee"),
            labels=list(spec.get("labels", [])),
            parent=parent,
        )
        task.history.append((at, "created"))
        self.tasks[task.id] = task
        for sub in spec.get("subtasks", []):
            task.subtasks.append(self._add_task(project_id, sub, task.id, at).id)
        return task

    def _change(self, task: _Task, name: str, value: Any, at: str) -> None:
        old = getattr(task, name)
        if old == value:
            return
        setattr(task, name, value)
        if name == "assignee":
            change = "unassigned" if value is None else f"assigned to {value}"
        elif name == "status":
            change = f"status changed from {old} to {value}"
        else:
            change = f"{name} changed to {value!r}"
        task.history.append((at, change))

    def _render(self, task: _Task) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "id": task.id,
            "project_id": task.project_id,
            "title": task.title,
            "status": task.status,
            "priority": task.priority,
            "assignee": task.assignee,
            "labels": list(task.labels),
            "subtasks": [self._render(self.tasks[sub]) for sub in task.subtasks],
        }
        if task.priority is None:
            del rendered["priority"]  # not nullable in the spec: absent when unset
        return rendered

    def _project(self, request: Request) -> dict[str, Any]:
        project_id = _path_param(request, "project_id")
        if project_id not in self.projects:
            raise HTTPException(404, f"project {project_id!r} not found")
        return self.projects[project_id]

    def _task(self, request: Request) -> _Task:
        task_id = _path_param(request, "task_id")
        if task_id not in self.tasks:
            raise HTTPException(404, f"task {task_id!r} not found")
        return self.tasks[task_id]

    async def list_projects(self, request: Request) -> Response:
        text = _single(request, "archived")
        if text not in (None, "true", "false"):
            raise _InvalidRequestError(f"archived: must be true or false, got {text!r}")
        archived = text == "true"
        projects = [p for p in self.projects.values() if p["archived"] == archived]
        return JSONResponse(projects)

    async def create_project(self, request: Request) -> Response:
        body = await _json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise _InvalidRequestError("name: required, a non-empty string")
        _optional_string(body, "description")
        project_id = f"p{len(self.projects) + 1}"
        project = {
            "id": project_id,
            "name": name,
            "description": body.get("description"),
            "archived": False,
        }
        self.projects[project_id] = project
        return JSONResponse(project, 201)

    async def list_tasks(self, request: Request) -> Response:
        project = self._project(request)
        status = _single(request, "status")
        if status is not None and status not in STATUSES:
            raise _InvalidRequestError(f"status: must be one of {', '.join(STATUSES)}")
        labels = request.query_params.getlist("label")
        due_text = _single(request, "due_before")
        due_before = None if due_text is None else _parse_date_time(due_text, "due_before")
        tasks = []
        for task in self.tasks.values():
            if task.project_id != project["id"] or task.parent is not None:
                continue
            if status is not None and task.status != status:
                continue
            if labels and not any(label in task.labels for label in labels):
                continue
            if due_before is not None and (task.due is None or task.due >= due_before):
                continue
            tasks.append(self._render(task))
        return JSONResponse(tasks)

    async def create_task(self, request: Request) -> Response:
        project = self._project(request)
        spec = _task_input(await _json_body(request))
        return JSONResponse(self._render(self._add_task(project["id"], spec, None, _now())), 201)

    async def update_task(self, request: Request) -> Response:
        task = self._task(request)
        body = await _json_body(request)
        if "title" in body and not isinstance(body["title"], str):
            raise _InvalidRequestError("title: must be a string")
        if "status" in body and body["status"] not in STATUSES:
            raise _InvalidRequestError(f"status: must be one of {', '.join(STATUSES)}")
        _optional_string(body, "assignee")
        at = _now()
        for name in ("title", "status", "assignee"):
            if name in body:
                self._change(task, name, body[name], at)
        return JSONResponse(self._render(task))

    async def delete_task(self, request: Request) -> Response:
        task = self._task(request)
        if task.parent is not None:
            self.tasks[task.parent].subtasks.remove(task.id)
        self._forget(task)
        return Response(status_code=204)

    def _forget(self, task: _Task) -> None:
        for sub in task.subtasks:
            self._forget(self.tasks[sub])
        del self.tasks[task.id]

    async def task_history(self, request: Request) -> Response:
        task = self._task(request)
        return JSONResponse([{"at": at, "change": change} for at, change in task.history])


# --- the app -------------------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail, headers = exc.detail, dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such resource: {request.method} {request.scope['path']}"
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(headers.get("Allow", "").split(", ")))
        detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
    return _problem(exc.status_code, detail, headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    return _problem(422, str(exc))


_Handler = Callable[[Request], Awaitable[Response]]


def _route(path: str, **handlers: _Handler) -> Route:
    """One route per path, dispatching on the method (so 405 lists every allowed one)."""

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method if request.method != "HEAD" else "GET"](request)

    return Route(path, dispatch, methods=list(handlers))


def create_app(*, token: str = DEFAULT_TOKEN) -> tuple[Starlette, RequestLog]:
    """A fresh tracker (3 projects, 5 tasks) and the log of its requests."""
    tracker = _Tracker()
    log = RequestLog()
    routes = [
        _route("/projects", GET=tracker.list_projects, POST=tracker.create_project),
        _route("/projects/{project_id}/tasks", GET=tracker.list_tasks, POST=tracker.create_task),
        _route("/tasks/{task_id}", PATCH=tracker.update_task, DELETE=tracker.delete_task),
        _route("/tasks/{task_id}/history", GET=tracker.task_history),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(_RecordRequests, log=log),
            Middleware(_RequireBearer, token=token),
        ],
        exception_handlers={HTTPException: _http_error, _InvalidRequestError: _invalid},
    )
    return app, log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Tasks API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted bearer token")
    args = parser.parse_args(argv)
    app, _ = create_app(token=args.token)
    print(f"Tasks API: http://127.0.0.1:{args.port}", flush=True)
    print(f"Send the header  Authorization: Bearer {args.token}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
