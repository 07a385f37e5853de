"""Arguments → request parts (mcpgen.runtime.encoding)."""

from __future__ import annotations

import pytest

from mcpgen.runtime.encoding import (
    UNSET,
    ArgumentError,
    Query,
    cookie_header,
    cookie_value,
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
            Query("e", {"k": "v", "n": 1, "o": {"p": [1, 2]}}, style="deepObject"),
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
        ("e[o][p][0]", "1"),
        ("e[o][p][1]", "2"),
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


def test_deep_object_arrays_go_out_as_stripe_documents_them() -> None:
    """`expand[]=a&expand[]=b`, not `expand=a,b` (Stripe's `expand` is declared deepObject)."""
    assert encode_query([Query("expand", ["a", "b"], style="deepObject")]) == [
        ("expand[]", "a"),
        ("expand[]", "b"),
    ]


def test_an_empty_object_in_a_form_body_is_refused() -> None:
    with pytest.raises(ArgumentError, match=r"'a\[b\]' is an empty object"):
        form_pairs({"a": {"b": {}}})
    assert form_pairs({}) == []


@pytest.mark.parametrize("value", [UNSET, None])
def test_a_group_not_given_is_empty(value: object) -> None:
    assert drop_unset(value) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\x00b", "control characters"),
        ("a\x1bb", "control characters"),
        ("caf\u00e9", "ASCII"),
    ],
)
def test_headers_refuse_what_http_cannot_carry(value: str, message: str) -> None:
    with pytest.raises(ArgumentError, match=message) as caught:
        header_value("X-Pref", value)
    assert value not in str(caught.value)


@pytest.mark.parametrize("value", ["x\x00y", "x\ry", "x\ny", "x\ty"])
def test_cookie_values_with_control_characters_are_refused_without_echo(value: str) -> None:
    with pytest.raises(ArgumentError, match="cookie 'pref' must not contain control") as caught:
        cookie_value("pref", value)
    assert value not in str(caught.value)


def test_cookie_values_cannot_add_a_cookie() -> None:
    value = cookie_value("pref", 'x; sid=attacker, "q"\\é')
    assert value == "x%3B%20sid=attacker%2C%20%22q%22%5C%C3%A9"
    assert cookie_header({"pref": value, "sid": "real"}) == f"pref={value}; sid=real"
