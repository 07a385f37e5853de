"""Tool arguments → the parts of an HTTP request, encoded as OpenAPI describes them.

Values are percent-encoded so that no argument can change the request's shape: a path value
never adds a segment, a header or cookie value never adds a line or another cookie. Values
that cannot be sent as asked (control characters in a header or cookie, an empty object in a
form body) are refused with an `ArgumentError` that names the argument and never repeats its
value.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

__all__ = [
    "UNSET",
    "ArgumentError",
    "Query",
    "Unset",
    "cookie_header",
    "cookie_value",
    "drop_unset",
    "encode_path",
    "encode_query",
    "form_pairs",
    "header_value",
    "multipart_files",
    "scalar",
]


class Unset:
    """The value of an optional argument the caller did not give (distinct from None/null)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset()


class ArgumentError(ValueError):
    """An argument value that cannot be sent as asked (reported to the caller as a tool error)."""


@dataclass(frozen=True)
class Query:
    """One query parameter and how OpenAPI says to serialise it."""

    name: str
    value: Any
    style: str = "form"
    explode: bool = True


def scalar(value: Any) -> str:
    """One value as text: booleans in lower case, null as empty, objects as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def encode_path(template: str, values: Mapping[str, Any]) -> str:
    """Fill a path template; every value is percent-encoded so it can never change the path,
    and the template's own text is written as a valid URL path (`"` as `%22`)."""
    encoded = {name: _path_value(name, value) for name, value in values.items()}
    parts = _PLACEHOLDER.split(template)
    return "".join(
        encoded.get(part[1:-1], part) if i % 2 else quote(part, safe=_PATH_SAFE)
        for i, part in enumerate(parts)
    )


_PLACEHOLDER = re.compile(r"(\{[^{}/]+\})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"  # RFC 3986 path characters, and escapes already made


def _path_value(name: str, value: Any) -> str:
    if isinstance(value, Unset) or value is None:
        raise ArgumentError(f"path parameter '{name}' is required")
    text = ",".join(scalar(v) for v in value) if isinstance(value, list) else scalar(value)
    if text == "":
        raise ArgumentError(f"path parameter '{name}' must not be empty")
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if set(encoded) == {"."} else encoded


def encode_query(params: Sequence[Query]) -> list[tuple[str, str]]:
    """Serialise query parameters per their style and explode settings."""
    pairs: list[tuple[str, str]] = []
    for param in params:
        value = param.value
        if isinstance(value, Unset) or value is None:
            continue
        if isinstance(value, list):
            pairs.extend(_query_list(param, value))
        elif isinstance(value, dict):
            pairs.extend(_query_object(param, value))
        else:
            pairs.append((param.name, scalar(value)))
    return pairs


def _query_list(param: Query, value: list[Any]) -> list[tuple[str, str]]:
    if param.style == "form" and param.explode:
        return [(param.name, scalar(v)) for v in value]
    if param.style == "deepObject":
        # OpenAPI defines deepObject for objects only; APIs that declare it on arrays (Stripe's
        # `expand`) read `name[]=a&name[]=b`, as Rack and PHP do.
        return [(f"{param.name}[]", scalar(v)) for v in value]
    separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(param.style, ",")
    return [(param.name, separator.join(scalar(v) for v in value))]


def _query_object(param: Query, value: dict[str, Any]) -> list[tuple[str, str]]:
    if param.style == "deepObject":
        # Nested objects and arrays go on in brackets (`a[b][c]=1`, `a[b][0]=x`), as the APIs
        # that use deepObject (Stripe, Rails and PHP back ends) read them.
        return form_pairs({param.name: value})
    if param.explode:
        return [(str(k), scalar(v)) for k, v in value.items()]
    flat = ",".join(f"{k},{scalar(v)}" for k, v in value.items())
    return [(param.name, flat)]


def form_pairs(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Form fields, nested objects and lists in brackets: `a[b]=1`, `tags[0]=x` (as Stripe,
    Rails and most form-body APIs read them).

    An empty object has no form encoding (it would vanish, and a required one would then be
    missing), so it is refused: the caller gives at least one of its fields or leaves it out.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        _flatten_form(name, value, pairs)
    return pairs


def _flatten_form(name: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        if not value:
            raise ArgumentError(
                f"'{name}' is an empty object, which a form body cannot carry: give at least "
                "one of its fields, or leave it out"
            )
        for key, inner in value.items():
            _flatten_form(f"{name}[{key}]", inner, pairs)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten_form(f"{name}[{index}]", inner, pairs)
    elif value is not None:
        pairs.append((name, scalar(value)))


def drop_unset(values: Mapping[str, Any] | Unset | None) -> dict[str, Any]:
    """The given arguments only (none at all when the whole group was not given)."""
    if values is None or isinstance(values, Unset):
        return {}
    return {k: v for k, v in values.items() if not isinstance(v, Unset)}


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def header_value(name: str, value: Any) -> str:
    """A header value: line breaks would start another header and other control characters
    are not allowed in one, so both are refused, as is non-ASCII text (which HTTP/1.1 headers
    do not carry)."""
    text = ",".join(scalar(v) for v in value) if isinstance(value, list) else scalar(value)
    text = text.strip(" \t")  # surrounding white space is not part of a header value
    if "\r" in text or "\n" in text:
        raise ArgumentError(f"header '{name}' must not contain line breaks")
    if _CONTROL.search(text):
        raise ArgumentError(f"header '{name}' must not contain control characters")
    if not text.isascii():
        raise ArgumentError(f"header '{name}' must be ASCII text")
    return text


# RFC 6265 cookie-octet: printable ASCII except space, DQUOTE, comma, semicolon and backslash.
_COOKIE_SAFE = "!#$&'()*+-./:<=>?@[]^_`{|}~"


def cookie_value(name: str, value: Any) -> str:
    """A cookie value: control characters are refused; anything outside RFC 6265's
    cookie-octet (`;`, `,`, space, quotes, backslash, non-ASCII) is percent-encoded, so a
    value can never add a cookie or a header line."""
    text = ",".join(scalar(v) for v in value) if isinstance(value, list) else scalar(value)
    if _CONTROL.search(text) or "\t" in text:
        raise ArgumentError(f"cookie '{name}' must not contain control characters")
    return quote(text, safe=_COOKIE_SAFE)


def cookie_header(cookies: Mapping[str, str]) -> str:
    """The `Cookie` header for already-encoded values, in the order given."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def multipart_files(files: Mapping[str, Any]) -> dict[str, tuple[str, bytes]]:
    """File arguments arrive base64-encoded; they are sent decoded, named after the field."""
    decoded: dict[str, tuple[str, bytes]] = {}
    for name, value in files.items():
        try:
            decoded[name] = (name, base64.b64decode(str(value), validate=True))
        except ValueError:
            raise ArgumentError(f"'{name}' must be base64-encoded file content") from None
    return decoded
