"""Values from specs and mappings, made safe for each language they land in (mcpgen.escape)."""

from __future__ import annotations

import ast
import json
import shlex
import tomllib
import unicodedata
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpgen.escape import comment, doc, env, json_value, md, md_code, py, shell, toml

HOSTILE = [
    "A \"\"\"triple\"\"\" and '''single''' quotes",
    "ends with a backslash\\",
    "{{ project.name }} and {% raw %} and ${HOME} and `rm -rf /`",
    "<script>alert('x')</script> & &amp;",
    "line one\r\nline two\nline three\rfour",
    "Grüße, 日本語, emoji 🚀",
    "right-to-left \u202eevil\u202c and zero\u200bwidth and \x00 nul and \x7f del",
    "| pipe | in | cells |",
    "# heading\n- list\n1. item",
    "'",
    '"',
    "\\",
    "",
]
FINITE = st.floats(allow_nan=False, allow_infinity=False)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | FINITE | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _visible_only(text: str) -> bool:
    return not any(unicodedata.category(c)[0] == "C" for c in text if c not in "\n")


@pytest.mark.parametrize("text", HOSTILE)
def test_python_literal_reads_back(text: str) -> None:
    literal = py(text)
    assert ast.literal_eval(literal) == text
    assert _visible_only(literal)
    assert "\n" not in literal


@given(JSONISH)
def test_python_literal_of_any_json_data(value: object) -> None:
    assert ast.literal_eval(py(value)) == value


def test_python_literal_of_tuples_and_floats() -> None:
    assert ast.literal_eval(py(("a",))) == ("a",)
    assert ast.literal_eval(py(())) == ()
    assert py(float("inf")) == 'float("inf")'
    with pytest.raises(TypeError):
        py(object())


class Text(str):
    __slots__ = ()


class Items(list[object]):
    pass


def test_python_literal_of_subclasses_and_other_mappings() -> None:
    value = MappingProxyType({"a": Items([Text("b"), True, None, 1.5]), Text("c"): {"d": (1,)}})
    literal = py(value)
    assert literal == '{"a": ["b", True, None, 1.5], "c": {"d": (1,)}}'
    assert ast.literal_eval(literal) == {"a": ["b", True, None, 1.5], "c": {"d": (1,)}}


@pytest.mark.parametrize("text", HOSTILE)
def test_docstring_text_cannot_end_the_docstring(text: str) -> None:
    source = f'"""Title: {doc(text)}."""\nx = 1\n'
    tree = ast.parse(source)
    assert len(tree.body) == 2
    first = tree.body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    assert str(first.value.value).startswith("Title: ")
    assert _visible_only(doc(text))


@pytest.mark.parametrize("text", HOSTILE)
def test_comment_stays_on_its_line(text: str) -> None:
    line = comment(text)
    assert "\n" not in line and "\r" not in line
    assert _visible_only(line)
    assert len(ast.parse(f"# {line}\nx = 1\n").body) == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_toml_string_reads_back(text: str) -> None:
    parsed = tomllib.loads(f"key = {toml(text)}\nother = 1\n")
    assert parsed["other"] == 1
    expected = "".join(c for c in text)
    assert parsed["key"] == expected


@given(st.text())
def test_toml_string_of_any_text(text: str) -> None:
    parsed = tomllib.loads(f"key = {toml(text)}\n")["key"]
    kept = [c for c in text if not 0xD800 <= ord(c) <= 0xDFFF]
    assert len(parsed) == len(text) and all(a == b for a, b in zip(parsed, kept, strict=False))


@given(JSONISH)
def test_json_value_reads_back(value: object) -> None:
    assert json.loads(json_value(value)) == value
    assert "\n" not in json_value(value)
    assert json.loads(json_value(value, compact=True)) == value
    assert "\n" not in json_value(value, compact=True)


def test_compact_json_has_no_spaces_between_tokens_and_escapes_hidden_characters() -> None:
    assert json_value({"a": [1, "b c\u2028"]}, compact=True) == '{"a":[1,"b c\\u2028"]}'


def test_json_value_does_not_html_escape() -> None:
    assert json_value("a & b < c") == '"a & b < c"'


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_cell_is_one_cell(text: str) -> None:
    cell = md(text)
    assert "\n" not in cell
    assert "|" not in cell.replace("\\|", "")
    assert "<" not in cell.replace("\\<", "")
    assert "`" not in cell.replace("\\`", "")
    assert _visible_only(cell)


def test_markdown_escapes_line_starts() -> None:
    assert md("# not a heading") == "\\# not a heading"
    assert md("1. not a list") == "1\\. not a list"
    assert md("- no") == "\\- no"
    assert md("plain words") == "plain words"


@pytest.mark.parametrize("text", [*HOSTILE, "`", "a``b", "`edge`"])
def test_markdown_code_span(text: str) -> None:
    span = md_code(text)
    assert "\n" not in span
    fence = len(span) - len(span.lstrip("`"))
    inner = span[fence:-fence] if fence else span
    assert "`" * fence not in inner
    assert "|" not in inner.replace("\\|", "")


@pytest.mark.parametrize("text", HOSTILE)
def test_shell_word(text: str) -> None:
    words = shlex.split(f"echo {shell(text)} end")
    assert len(words) == 3
    if _visible_only(text) and "\n" not in text:
        assert words[1] == text


def test_env_values() -> None:
    assert env("https://api.example.com/v1") == "https://api.example.com/v1"
    assert env("") == ""
    quoted = env('a b "c" $HOME\nX=1')
    assert quoted.startswith('"') and quoted.endswith('"')
    assert "\n" not in quoted
    assert "\\$HOME" in quoted
