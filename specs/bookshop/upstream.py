"""A small in-memory implementation of the Bookshop API (specs/bookshop/openapi.yaml).

Run it by hand::

    .venv/bin/python specs/bookshop/upstream.py --port 8000 [--api-key KEY]

It listens on 127.0.0.1 only, under the base path `/v1`, and requires the
`X-API-Key` header on every request (the key is printed at start-up).

In tests::

    app, log = create_app(api_key="k")      # a Starlette app and its RequestLog
    ...send requests...
    log.last().raw_path                      # e.g. "/v1/books/..%2Fadmin", as on the wire

Every request is recorded before it is handled, so the log already holds it when
the client sees the response. Paths are matched on the raw, still percent-encoded
path: `/v1/books/..%2Fadmin` is the book whose id is `../admin`.
"""

from __future__ import annotations

import argparse
import hmac
import re
import sys
from datetime import date
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

__all__ = ["DEFAULT_API_KEY", "RecordedRequest", "RequestLog", "create_app", "main"]

DEFAULT_API_KEY = "bookshop-demo-key"
GENRES = ("fiction", "non-fiction", "poetry", "science", "history")
FIELDS = ("id", "title", "author_id", "genre", "tags", "published", "rating")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"-?\d+")


# --- credentials -------------------------------------------------------------------------


class _RequireApiKey:
    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"x-api-key")
            if given is None or not hmac.compare_digest(given, self.api_key):
                detail = "missing X-API-Key header" if given is None else "invalid API key"
                await _error(401, "unauthorized", detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --- errors and request parsing ---------------------------------------------------------


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"code": code, "message": message}, status, headers=headers)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = single(request, name)
    if text is None:
        return default
    if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidRequestError(f"{name}: must be an integer from {low} to {high}, got {text!r}")
    return int(text)


def _book_input(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a BookInput; return its fields with defaults filled in."""
    title = body.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 200:
        raise InvalidRequestError("title: required, a string of 1 to 200 characters")
    author_id = body.get("author_id")
    if not is_int(author_id):
        raise InvalidRequestError("author_id: required, an integer")
    genre = body.get("genre")
    if "genre" in body and genre not in GENRES:
        raise InvalidRequestError(f"genre: must be one of {', '.join(GENRES)}")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidRequestError("tags: must be an array of strings")
    published = body.get("published")
    if published is not None and not _is_date(published):
        raise InvalidRequestError("published: must be a date (YYYY-MM-DD) or null")
    return {
        "title": title,
        "author_id": author_id,
        "genre": genre,
        "tags": list(tags),
        "published": published,
    }


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# --- the shop ------------------------------------------------------------------------------

_AUTHORS = {1: "Ursula K. Le Guin", 2: "Carl Sagan", 3: "Mary Oliver"}
_BOOKS: tuple[dict[str, Any], ...] = (
    {
        "title": "A Wizard of Earthsea",
        "author_id": 1,
        "genre": "fiction",
        "tags": ["fantasy", "classic"],
        "published": "1968-11-01",
    },
    {
        "title": "The Left Hand of Darkness",
        "author_id": 1,
        "genre": "fiction",
        "tags": ["science-fiction", "classic"],
        "published": "1969-03-01",
    },
    {
        "title": "Cosmos",
        "author_id": 2,
        "genre": "science",
        "tags": ["astronomy"],
        "published": "1980-10-12",
    },
    {
        "title": "Devotions",
        "author_id": 3,
        "genre": "poetry",
        "tags": [],
        "published": "2017-10-10",
    },
    {"title": "Upcoming Essays", "author_id": 3, "genre": None, "tags": ["essays"]},
)
_REVIEWS = (("b1", 5, "A classic."), ("b1", 4, None), ("b2", 4, None), ("b4", 5, "Luminous."))
_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "fiction": ("Fiction", ("fantasy", "science-fiction")),
    "fantasy": ("Fantasy", ("epic-fantasy",)),
    "epic-fantasy": ("Epic fantasy", ()),
    "science-fiction": ("Science fiction", ()),
    "non-fiction": ("Non-fiction", ("science", "history")),
    "science": ("Science", ("astronomy",)),
    "astronomy": ("Astronomy", ()),
    "history": ("History", ()),
}


class _Shop:
    """The shop's state and one handler per operation."""

    def __init__(self) -> None:
        self.books: dict[str, dict[str, Any]] = {}
        self.reviews: dict[str, list[dict[str, Any]]] = {}
        self.book_count = 0
        self.review_count = 0
        for book in _BOOKS:
            self._add_book({"published": None, **book})
        for book_id, rating, text in _REVIEWS:
            self._add_review(book_id, rating, text)

    def _add_book(self, fields: dict[str, Any]) -> dict[str, Any]:
        self.book_count += 1
        book = {"id": f"b{self.book_count}", **fields}
        self.books[book["id"]] = book
        self.reviews[book["id"]] = []
        return book

    def _add_review(self, book_id: str, rating: int, text: str | None) -> dict[str, Any]:
        self.review_count += 1
        review: dict[str, Any] = {"id": f"r{self.review_count}", "rating": rating}
        if text is not None:
            review["text"] = text
        self.reviews[book_id].append(review)
        return review

    def _render(self, book: dict[str, Any]) -> dict[str, Any]:
        reviews = self.reviews[book["id"]]
        rating = round(sum(r["rating"] for r in reviews) / len(reviews), 2) if reviews else None
        rendered = {
            "id": book["id"],
            "title": book["title"],
            "author_id": book["author_id"],
            "genre": book["genre"],
            "tags": list(book["tags"]),
            "published": book["published"],
            "rating": rating,
        }
        if rendered["genre"] is None:
            del rendered["genre"]  # not nullable in the spec: absent when unknown
        return rendered

    def _book(self, request: Request) -> dict[str, Any]:
        book_id = path_param(request, "bookId")
        if book_id not in self.books:
            raise HTTPException(404, f"book {book_id!r} not found")
        return self.books[book_id]

    def _checked_input(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = _book_input(body)
        if fields["author_id"] not in _AUTHORS:
            raise InvalidRequestError(f"author_id: author {fields['author_id']} does not exist")
        return fields

    async def list_books(self, request: Request) -> Response:
        author = single(request, "author")
        genre = single(request, "genre")
        if genre is not None and genre not in GENRES:
            raise InvalidRequestError(f"genre: must be one of {', '.join(GENRES)}")
        tags = request.query_params.getlist("tags")
        fields_text = single(request, "fields")
        fields = FIELDS if fields_text is None else tuple(fields_text.split(","))
        if unknown := [name for name in fields if name not in FIELDS]:
            raise InvalidRequestError(f"fields: unknown field {unknown[0]!r}")
        limit = _int_param(request, "limit", 20, 1, 100)
        items = []
        for book in reversed(self.books.values()):  # newest first
            if author is not None and author.lower() not in _AUTHORS[book["author_id"]].lower():
                continue
            if genre is not None and book["genre"] != genre:
                continue
            if not all(tag in book["tags"] for tag in tags):
                continue
            rendered = self._render(book)
            items.append({key: rendered[key] for key in fields if key in rendered})
        headers = {}
        if request_id := request.headers.get("x-request-id"):
            headers["X-Request-Id"] = request_id
        return JSONResponse({"items": items[:limit], "next_cursor": None}, headers=headers)

    async def create_book(self, request: Request) -> Response:
        fields = self._checked_input(await json_body(request))
        return JSONResponse(self._render(self._add_book(fields)), 201)

    async def get_book(self, request: Request) -> Response:
        return JSONResponse(self._render(self._book(request)))

    async def replace_book(self, request: Request) -> Response:
        book = self._book(request)
        book.update(self._checked_input(await json_body(request)))
        return JSONResponse(self._render(book))

    async def delete_book(self, request: Request) -> Response:
        book = self._book(request)
        del self.books[book["id"]], self.reviews[book["id"]]
        return Response(status_code=204)

    async def add_review(self, request: Request) -> Response:
        book = self._book(request)
        body = await json_body(request)
        rating, text = body.get("rating"), body.get("text")
        if not is_int(rating) or not 1 <= rating <= 5:
            raise InvalidRequestError("rating: required, an integer from 1 to 5")
        if text is not None and (not isinstance(text, str) or len(text) > 2000):
            raise InvalidRequestError("text: must be a string of at most 2000 characters")
        return JSONResponse(self._add_review(book["id"], rating, text), 201)

    async def author_books(self, request: Request) -> Response:
        text = path_param(request, "authorId")
        if not _INTEGER.fullmatch(text):
            raise InvalidRequestError(f"authorId: must be an integer, got {text!r}")
        if int(text) not in _AUTHORS:
            raise HTTPException(404, f"author {text} not found")
        books = [b for b in self.books.values() if b["author_id"] == int(text)]
        return JSONResponse([self._render(book) for book in books])

    async def get_category(self, request: Request) -> Response:
        category_id = path_param(request, "categoryId")
        depth = _int_param(request, "depth", 1, 0, 5)
        if category_id not in _CATEGORIES:
            raise HTTPException(404, f"category {category_id!r} not found")
        return JSONResponse(_category(category_id, depth))


def _category(category_id: str, depth: int) -> dict[str, Any]:
    name, children = _CATEGORIES[category_id]
    node: dict[str, Any] = {"id": category_id, "name": name}
    if depth > 0:
        node["children"] = [_category(child, depth - 1) for child in children]
    return node


# --- the app -------------------------------------------------------------------------------

_CODES = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}


def create_app(*, api_key: str = DEFAULT_API_KEY) -> tuple[Starlette, RequestLog]:
    """A fresh shop (seeded with 5 books by 3 authors) and the log of its requests."""
    shop = _Shop()
    log = RequestLog()
    routes = [
        route("/v1/books", GET=shop.list_books, POST=shop.create_book),
        route(
            "/v1/books/{bookId}",
            GET=shop.get_book,
            PUT=shop.replace_book,
            DELETE=shop.delete_book,
        ),
        route("/v1/books/{bookId}/reviews", POST=shop.add_review),
        route("/v1/authors/{authorId}/books", GET=shop.author_books),
        route("/v1/categories/{categoryId}", GET=shop.get_category),
    ]
    app = build_app(
        routes,
        log,
        Middleware(_RequireApiKey, api_key=api_key),
        http_error=lambda status, message, headers: _error(
            status, _CODES.get(status, "error"), message, headers
        ),
        invalid=lambda message: _error(422, "invalid_request", message),
    )
    return app, log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Bookshop API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="value of X-API-Key")
    args = parser.parse_args(argv)
    app, _ = create_app(api_key=args.api_key)
    serve(
        app,
        args.port,
        f"Bookshop API: http://127.0.0.1:{args.port}/v1",
        f"Send the header  X-API-Key: {args.api_key}",
    )


if __name__ == "__main__":
    main()
