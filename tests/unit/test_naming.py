from __future__ import annotations

import keyword

import pytest

from mcpgen.errors import Report
from mcpgen.naming import (
    MAX_TOOL_NAME,
    NameAllocator,
    operation_words,
    py_identifier,
    shorten,
    snake,
    tool_name_ok,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("listBooks", "list_books"),
        ("X-Request-Id", "x_request_id"),
        ("getHTTPServer", "get_http_server"),
        ("repos/get-content", "repos_get_content"),
        ("  ", ""),
        ("Ünïcode näme", "n_code_n_me"),
    ],
)
def test_snake(text: str, expected: str) -> None:
    assert snake(text) == expected


@pytest.mark.parametrize("word", ["class", "list", "type", "match", "id", "print", "import"])
def test_identifiers_never_shadow_keywords_or_builtins(word: str) -> None:
    name = py_identifier(word)
    assert name.isidentifier()
    assert not keyword.iskeyword(name)
    assert name.endswith("_")


def test_identifier_cannot_start_with_a_digit() -> None:
    assert py_identifier("2fa") == "value_2fa"
    assert py_identifier("") == "value"


def test_operation_words_without_operation_id() -> None:
    assert operation_words("get", "/authors/{authorId}/books") == [
        "get",
        "authors",
        "by",
        "author",
        "id",
        "books",
    ]
    assert operation_words("post", "/books") == ["create", "books"]


def test_shorten_is_readable_first() -> None:
    long = (
        "get_repos_by_owner_by_repo_actions_runs_by_run_id_attempts_by_attempt_number_logs_download"
    )
    short = shorten(long)
    assert len(short) <= MAX_TOOL_NAME
    assert short.startswith("get_") and short.endswith("_download")
    assert tool_name_ok(short)


def test_shorten_falls_back_to_a_hash_only_when_needed() -> None:
    one_word = "x" * 100
    short = shorten(one_word)
    assert len(short) <= MAX_TOOL_NAME
    assert tool_name_ok(short)
    assert short != shorten("y" * 100)


def test_allocator_suffixes_collisions_deterministically_and_warns() -> None:
    report = Report()
    names = NameAllocator("tool", report)
    assert [names.allocate("get_book"), names.allocate("get_book"), names.allocate("get_book")] == [
        "get_book",
        "get_book_2",
        "get_book_3",
    ]
    assert [w.code for w in report.warnings] == ["name-collision", "name-collision"]


def test_allocator_keeps_suffixed_names_within_the_limit() -> None:
    names = NameAllocator("tool", Report())
    base = "a" * 64
    first, second = names.allocate(base), names.allocate(base)
    assert len(first) <= 64 and len(second) <= 64 and first != second
