"""Arguments → request parts (mcpgen.runtime.encoding)."""

from __future__ import annotations

import pytest

from mcpgen.runtime.encoding import (
    UNSET,
    ArgumentError,
    Query,
    drop_unset,
    encode_path,
    encode_query,
    form_pairs,
    header_value,
    multipart_files,
    scalar,
)


def test_path_values_cannot_change_the_path() -> None:
    assert encode_path("/a/{x}/b", {"x": "../admin"}) == "/a/..%2Fadmin/b"
    assert encode_path("/a/{x}", {"x": ".."}) == "/a/%2E%2E"
    assert encode_path("/a/{x}", {"x": "a b?c#d"}) == "/a/a%20b%3Fc%23d"
    assert encode_path("/a/{x}", {"x": [1, 2]}) == "/a/1%2C2"
    assert encode_path("/a/{x}", {"x": True}) == "/a/true"


@pytest.mark.parametrize("value", [UNSET, None, ""])
def test_path_values_are_required(value: object) -> None:
    with pytest.raises(ArgumentError, match="path parameter 'x'"):
        encode_path("/a/{x}", {"x": value})


def test_query_styles() -> None:
    assert encode_query(
        [
            Query("a", [1, 2]),
            Query("b", [1, 2], explode=False),
            Query("c", ["x", "y"], style="pipeDelimited"),
            Query("d", ["x", "y"], style="spaceDelimited"),
            Query("e", {"k": "v", "n": 1}, style="deepObject"),
            Query("f", {"k": "v"}),
            Query("g", {"k": "v", "l": "w"}, explode=False),
            Query("h", UNSET),
            Query("i", None),
            Query("j", False),
        ]
    ) == [
        ("a", "1"),
        ("a", "2"),
        ("b", "1,2"),
        ("c", "x|y"),
        ("d", "x y"),
        ("e[k]", "v"),
        ("e[n]", "1"),
        ("k", "v"),
        ("g", "k,v,l,w"),
        ("j", "false"),
    ]


def test_form_fields_nest_in_brackets() -> None:
    assert form_pairs({"a": {"b": 1, "c": [True, None, "x"]}, "d": None, "e": "é"}) == [
        ("a[b]", "1"),
        ("a[c][0]", "true"),
        ("a[c][2]", "x"),
        ("e", "é"),
    ]


def test_headers_refuse_line_breaks() -> None:
    assert header_value("X", ["a", 1]) == "a,1"
    with pytest.raises(ArgumentError, match="line breaks"):
        header_value("X", "a\r\nInjected: yes")


def test_files_are_base64() -> None:
    assert multipart_files({"f": "aGk="}) == {"f": ("f", b"hi")}
    with pytest.raises(ArgumentError, match="base64"):
        multipart_files({"f": "not base64!"})


def test_scalars_and_unset() -> None:
    assert scalar({"a": [1]}) == '{"a":[1]}'
    assert repr(UNSET) == "UNSET" and not UNSET
    assert drop_unset({"a": UNSET, "b": None}) == {"b": None}
