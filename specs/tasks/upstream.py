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
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the `specs` package importable from anywhere
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from specs.upstream_kit import (
    InvalidRequestError,
    RecordedRequest,
    RequestLog,
    build_app,
    is_int,
    json_body,
    path_param,
    route,
    serve,
    single,
)

__all__ = ["DEFAULT_TOKEN", "RecordedRequest", "RequestLog", "create_app", "main"]

DEFAULT_TOKEN = "tasks-demo-token"
STATUSES = ("todo", "doing", "done")
PRIORITIES = (1, 2, 3)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


# --- credentials -------------------------------------------------------------------------


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


def _optional_string(body: dict[str, Any], name: str, where: str = "") -> None:
    if body.get(name) is not None and not isinstance(body[name], str):
        raise InvalidRequestError(f"{where}{name}: must be a string or null")


def _parse_date_time(text: str, name: str) -> datetime:
    if _DATE_TIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text.upper())
        except ValueError:
            pass
    raise InvalidRequestError(f"{name}: must be an RFC 3339 date-time, got {text!r}")


def _task_input(body: Any, where: str = "") -> dict[str, Any]:
    """Validate a TaskInput (sub-tasks included); `where` prefixes error locations."""
    if not isinstance(body, dict):
        raise InvalidRequestError(f"{where or 'body'}: must be a JSON object")
    title = body.get("title")
    if not isinstance(title, str) or not title:
        raise InvalidRequestError(f"{where}title: required, a non-empty string")
    priority = body.get("priority")
    if "priority" in body and (not is_int(priority) or priority not in PRIORITIES):
        raise InvalidRequestError(f"{where}priority: must be 1, 2 or 3")
    _optional_string(body, "assignee", where)
    labels = body.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise InvalidRequestError(f"{where}labels: must be an array of strings")
    subtasks = body.get("subtasks", [])
    if not isinstance(subtasks, list):
        raise InvalidRequestError(f"{where}subtasks: must be an array")
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
        project_id = path_param(request, "project_id")
        if project_id not in self.projects:
            raise HTTPException(404, f"project {project_id!r} not found")
        return self.projects[project_id]

    def _task(self, request: Request) -> _Task:
        task_id = path_param(request, "task_id")
        if task_id not in self.tasks:
            raise HTTPException(404, f"task {task_id!r} not found")
        return self.tasks[task_id]

    async def list_projects(self, request: Request) -> Response:
        text = single(request, "archived")
        if text not in (None, "true", "false"):
            raise InvalidRequestError(f"archived: must be true or false, got {text!r}")
        archived = text == "true"
        projects = [p for p in self.projects.values() if p["archived"] == archived]
        return JSONResponse(projects)

    async def create_project(self, request: Request) -> Response:
        body = await json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidRequestError("name: required, a non-empty string")
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
        status = single(request, "status")
        if status is not None and status not in STATUSES:
            raise InvalidRequestError(f"status: must be one of {', '.join(STATUSES)}")
        labels = request.query_params.getlist("label")
        due_text = single(request, "due_before")
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
        spec = _task_input(await json_body(request))
        return JSONResponse(self._render(self._add_task(project["id"], spec, None, _now())), 201)

    async def update_task(self, request: Request) -> Response:
        task = self._task(request)
        body = await json_body(request)
        if "title" in body and not isinstance(body["title"], str):
            raise InvalidRequestError("title: must be a string")
        if "status" in body and body["status"] not in STATUSES:
            raise InvalidRequestError(f"status: must be one of {', '.join(STATUSES)}")
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


def create_app(*, token: str = DEFAULT_TOKEN) -> tuple[Starlette, RequestLog]:
    """A fresh tracker (3 projects, 5 tasks) and the log of its requests."""
    tracker = _Tracker()
    log = RequestLog()
    routes = [
        route("/projects", GET=tracker.list_projects, POST=tracker.create_project),
        route("/projects/{project_id}/tasks", GET=tracker.list_tasks, POST=tracker.create_task),
        route("/tasks/{task_id}", PATCH=tracker.update_task, DELETE=tracker.delete_task),
        route("/tasks/{task_id}/history", GET=tracker.task_history),
    ]
    app = build_app(
        routes,
        log,
        Middleware(_RequireBearer, token=token),
        http_error=_problem,
        invalid=lambda detail: _problem(422, detail),
    )
    return app, log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Tasks API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted bearer token")
    args = parser.parse_args(argv)
    app, _ = create_app(token=args.token)
    serve(
        app,
        args.port,
        f"Tasks API: http://127.0.0.1:{args.port}",
        f"Send the header  Authorization: Bearer {args.token}",
    )


if __name__ == "__main__":
    main()
