"""Text from a spec or a mapping, made safe once for the language it lands in.

Every value that reaches a generated file goes through exactly one of these functions, which
templates use as Jinja filters (`name={{ tool.name | py }}`). Each returns text that, pasted
where its language expects a value, reads back as the same value and can never end that value
early, start a new statement, line, key, cell or command, or be re-read as template syntax:

- `py`: a Python expression (str, number, bool, None, list, tuple, dict);
- `doc`: the inside of a Python triple-quoted docstring;
- `comment`: the rest of a `#` comment line (Python, TOML, shell, .env);
- `toml`: a TOML value;
- `json`: a JSON (or JSONC) value; `yaml`: a YAML value (JSON is YAML's flow style);
- `md`: Markdown inline text, a table cell included; `md_code`: a Markdown code span;
- `shell`: one word of a POSIX shell command;
- `env`: the value of a `NAME=value` line of a `.env` file.

Characters a reader cannot see (bidirectional controls, zero-width characters, other control
characters) are written as escapes wherever the language has them, so generated source can't
display differently from what it does.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import unicodedata
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.ext import Extension

__all__ = [
    "FILTERS",
    "EscapeExtension",
    "comment",
    "doc",
    "env",
    "json_value",
    "md",
    "md_code",
    "py",
    "shell",
    "toml",
    "yaml",
]

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_MD_LINE_START = re.compile(r"^(\d*)([#>+=.)-])")
_ENV_PLAIN = re.compile(r"[A-Za-z0-9_./:@%+,=-]*")


def _hidden(char: str) -> bool:
    """A character that shows as nothing, or as something else: controls, format, unassigned."""
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp")


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _visible(text: str) -> str:
    """`text` with every hidden character written as a `\\uXXXX` escape (for comments and
    Markdown, where no escape exists: the reader sees what is there)."""
    return "".join(_escaped(c) if _hidden(c) else c for c in text)


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _LINE_BREAKS.sub(" ", text)).strip()


# The exact types `py` takes that are not mappings: no costlier abstract check for them.
_NOT_MAPPINGS = frozenset({list, tuple, bool, int, float, type(None)})


def py(value: Any) -> str:
    """A Python literal that evaluates to `value` (JSON-like data, tuples allowed)."""
    kind = type(value)  # the common exact types first: schemas are large
    if isinstance(value, str):
        return _py_str(value)
    if kind is dict or (kind not in _NOT_MAPPINGS and isinstance(value, Mapping)):
        return "{" + ", ".join([f"{py(k)}: {py(v)}" for k, v in value.items()]) + "}"
    if isinstance(value, list):
        return "[" + ", ".join([py(v) for v in value]) + "]"
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else 'float("-inf")'
        return repr(value)
    if isinstance(value, tuple):
        items = [py(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise TypeError(f"no Python literal for a {type(value).__name__}")


def _py_str(text: str) -> str:
    """A double-quoted string literal; `repr` already escapes every non-printable character."""
    literal = repr(str(text))
    if literal[0] == '"':  # repr chose double quotes: the text has a ' and no "
        return literal
    body = literal[1:-1]
    if "'" in body or '"' in body:
        body = body.replace("\\'", "'").replace('"', '\\"')
    return f'"{body}"'


def doc(text: str) -> str:
    """Text for the inside of a triple-quoted docstring: backslashes and quotes escaped, hidden
    characters as escapes; line breaks kept as lines."""
    lines = _LINE_BREAKS.split(str(text))
    out = []
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace('"', '\\"')
        out.append("".join(_escaped(c) if _hidden(c) else c for c in escaped).rstrip())
    return "\n".join(out).strip("\n")


def comment(text: str) -> str:
    """Text for the rest of a `#` comment line: one line, hidden characters made visible."""
    return _visible(_one_line(str(text)))


def toml(value: Any) -> str:
    """A TOML value: a basic string, boolean, integer or array."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if not isinstance(value, str):
        raise TypeError(f"no TOML value for a {type(value).__name__}")
    out = []
    for char in value:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[char])
        elif _hidden(char):
            out.append(_escaped(char) if not 0xD800 <= ord(char) <= 0xDFFF else "\\ufffd")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def json_value(value: Any, *, compact: bool = False) -> str:
    """A JSON value on one line, non-ASCII kept, hidden characters escaped; no HTML escaping
    (unlike Jinja's `tojson`). `compact`: no space after `,` and `:`."""
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(value, ensure_ascii=False, separators=separators)
    # printable ASCII is never hidden: only the other characters are looked at
    return _NOT_PRINTABLE_ASCII.sub(_json_unhidden, text)


_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")


def _json_unhidden(found: re.Match[str]) -> str:
    char = found.group()
    return _json_escaped(char) if _hidden(char) else char


def _json_escaped(char: str) -> str:
    """JSON has only `\\uXXXX`: characters beyond the BMP become a surrogate pair."""
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def yaml(value: Any) -> str:
    """A YAML value: JSON is YAML's flow style, and a JSON string is a double-quoted scalar."""
    return json_value(value)


def md(text: str) -> str:
    """Markdown inline text, safe in a table cell: one line, every character with a meaning
    in Markdown or HTML backslash-escaped (CommonMark allows it for all ASCII punctuation)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", _one_line(str(text)))
    return _visible(_MD_LINE_START.sub(r"\1\\\2", escaped))


def md_code(text: str) -> str:
    """A Markdown code span showing `text` verbatim, safe in a table cell."""
    content = _visible(_one_line(str(text))).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def shell(text: str) -> str:
    """One word of a POSIX shell command line."""
    return shlex.quote(_visible(str(text)))


def env(text: str) -> str:
    """The value in a `NAME=value` line of a `.env` file: bare when plain, else double-quoted
    with escapes (as python-dotenv and Docker Compose read them)."""
    value = str(text)
    if _ENV_PLAIN.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return '"' + "".join(_escaped(c) if _hidden(c) else c for c in escaped) + '"'


FILTERS = {
    "py": py,
    "doc": doc,
    "comment": comment,
    "toml": toml,
    "json": json_value,
    "yaml": yaml,
    "md": md,
    "md_code": md_code,
    "shell": shell,
    "env": env,
}


class EscapeExtension(Extension):
    """The filters above, for copier's Jinja environment (`_jinja_extensions` in copier.yml).

    Jinja's own `tojson` (which HTML-escapes `&` and `<`) is removed, so a template cannot
    write a literal the other way.
    """

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.filters.pop("tojson", None)
