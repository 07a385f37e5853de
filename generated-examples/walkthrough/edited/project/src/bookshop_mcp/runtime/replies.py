"""Upstream replies → tool results, whatever the upstream sends, within the size caps.

- JSON (for tools with an output schema): structured content plus the same JSON as text;
  keep_fields applied; checked against the schema.
- Images come back as image content, text as text, other binary as an embedded resource
  carrying its MIME type. What the body *is* wins over what its Content-Type says: a PNG
  labelled JSON is an image, JSON labelled `image/png` is text.
- No result's text is longer than `MCP_MAX_RESULT_BYTES`: a long list is cut to the items
  that fit and the result says so; anything else too large is an error. Both say how to ask
  for less: the operation's own paging and filter arguments, and `keep_fields`.
- Error replies become `isError` results naming the status, the upstream's message (bounded,
  printable) and, for 429 and 503, the wait the upstream asked for.
"""

from __future__ import annotations

import base64
import codecs
import json
import re
from collections.abc import Callable
from typing import Any

from mcp.types import (
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    TextContent,
)

from .definitions import ToolDef
from .upstream import Reply, retry_after

__all__ = [
    "MAX_ERROR_TEXT",
    "advice",
    "error_result",
    "json_text",
    "shape_reply",
    "upstream_error",
]

MAX_ERROR_TEXT = 2000  # characters of an upstream error message passed on
_PREVIEW = 300  # characters of a reply shown when it is not what the tool expected
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)
_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Argument names (lower case, letters and digits only) that page through a reply.
_PAGING_WORDS = """limit perpage pagesize maxresults maxitems maxrecords count top first last
    page pagenumber offset cursor after before startingafter endingbefore pagetoken nexttoken
    continuationtoken marker skip start since"""
_PAGING = frozenset(_PAGING_WORDS.split())
_FILTERS = frozenset({"fields", "select", "filter", "q", "query", "search"})

Validate = Callable[[Any], list[str]]


def json_text(value: Any) -> str:
    """Compact JSON text, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_result(message: str) -> CallToolResult:
    """A tool error with a message for the agent."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def advice(tool: ToolDef) -> str:
    """How to ask this operation for less: its paging and filter arguments, keep_fields."""
    names = list((tool.input_schema.get("properties") or {}).keys())
    paging = [n for n in names if _norm(n) in _PAGING]
    filters = [n for n in names if _norm(n) in _FILTERS]
    parts = []
    if paging:
        parts.append(f"page with {_list(paging)}")
    if filters:
        parts.append(f"ask for fewer fields or items with {_list(filters)}")
    ask = (
        "Ask for less: " + " or ".join(parts) + "."
        if parts
        else "This operation has no paging arguments: narrow the request."
    )
    return (
        f"{ask} The server's operator can also cut this tool's replies to the fields agents "
        "need with `keep_fields` in the mcpgen mapping."
    )


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _list(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names[:6])


def upstream_error(tool: ToolDef, reply: Reply) -> CallToolResult:
    """A non-2xx reply as a tool error."""
    message = _message(reply) or "(no message)"
    text = f"The upstream API answered {reply.status} {reply.reason}: {message}"
    wait = retry_after(reply.headers) if reply.status in (429, 503) else None
    if wait is not None:
        text += f" It asks to wait {wait:.0f} s before trying again."
    elif reply.status == 429:
        text += " (rate limited: wait before trying again)"
    return error_result(text)


def _message(reply: Reply) -> str:
    """The most useful line of an error reply: a JSON message field, else its text."""
    if reply.is_json and reply.complete:
        try:
            body = reply.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("message", "error_description", "detail", "error", "title", "errors"):
                if body.get(key):
                    value = body[key]
                    return _printable(value if isinstance(value, str) else json_text(value))
    text = _as_text(reply)
    return _printable(text) if text is not None else ""


def _printable(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    text = _CONTROL.sub("", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shape_reply(tool: ToolDef, reply: Reply, limit: int, validate: Validate) -> CallToolResult:
    """A 2xx reply as the tool result. `limit` caps the result's text (bytes of UTF-8);
    `validate` checks structured content against the tool's output schema."""
    if tool.output_schema is not None:
        return _structured(tool, reply, limit, validate)
    if not reply.content and reply.complete:
        return _text_result(f"{reply.status} {reply.reason}")
    kind = _sniff(reply)
    if kind in _IMAGES:
        return _binary(tool, reply, kind, image=True)
    text = _as_text(reply)
    if text is not None:
        return _cut_text(tool, reply, text, limit)
    declared = reply.media_type
    if not declared or declared.startswith("text/") or reply.is_json:
        declared = "application/octet-stream"  # labelled as text, but it is not
    return _binary(tool, reply, kind or declared)


def _structured(tool: ToolDef, reply: Reply, limit: int, validate: Validate) -> CallToolResult:
    if not reply.complete:
        return error_result(
            f"The call succeeded ({reply.status}) but the reply is larger than this server "
            f"reads (UPSTREAM_MAX_BYTES). {advice(tool)}"
        )
    try:
        data = reply.json() if reply.content else None
    except ValueError:
        return error_result(
            f"The call succeeded ({reply.status}) but the reply is not JSON: {_describe(reply)}"
        )
    except RecursionError:
        return error_result(
            f"The call succeeded ({reply.status}) but the reply is JSON nested too deeply to read"
        )
    if tool.keep_fields:
        from .shaping import keep_fields

        data = keep_fields(data, tool.keep_fields)
    structured = {"result": data} if tool.wrap_output else data
    found = validate(structured)
    if found:
        return error_result(
            f"The call succeeded ({reply.status}) but the reply does not match the documented "
            f"schema ({'; '.join(found)}). Reply: {_describe(reply)}"
        )
    text = json_text(data)
    size = len(text.encode())
    if size <= limit:
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=structured
        )
    fitted = _fit(data, limit - 1000)
    if fitted is not None:
        cut, shown, total = fitted
        cut_structured = {"result": cut} if tool.wrap_output else cut
        if not validate(cut_structured):
            note = (
                f"Only the first {shown} of {total} items are shown: the whole reply is "
                f"{size:,} bytes, over this server's limit of {limit:,} bytes per result "
                f"(MCP_MAX_RESULT_BYTES). {advice(tool)}"
            )
            return CallToolResult(
                content=[
                    TextContent(type="text", text=json_text(cut)),
                    TextContent(type="text", text=note),
                ],
                structured_content=cut_structured,
            )
    return error_result(
        f"The reply is {size:,} bytes, over this server's limit of {limit:,} bytes per result "
        f"(MCP_MAX_RESULT_BYTES). {advice(tool)}"
    )


def _fit(data: Any, budget: int) -> tuple[Any, int, int] | None:
    """`data` with its longest list (the reply itself, or one of its top-level fields) cut
    to the items that fit in `budget` bytes: (cut data, items kept, items in all)."""
    if isinstance(data, list):
        key: str | None = None
        items = data
    elif isinstance(data, dict):
        lists = [(len(v), k) for k, v in data.items() if isinstance(v, list)]
        if not lists:
            return None
        _, key = max(lists)
        items = data[key]
    else:
        return None
    rest = len(json_text({**data, key: []} if key is not None else []).encode())
    room = budget - rest
    kept = 0
    for item in items:
        room -= len(json_text(item).encode()) + 1
        if room < 0:
            break
        kept += 1
    if kept == 0:
        return None
    cut = items[:kept]
    return ({**data, key: cut} if key is not None else cut), kept, len(items)


def _sniff(reply: Reply) -> str | None:
    """The MIME type the body's first bytes show, when they show one."""
    head = reply.content[:16]
    for magic, media in _MAGIC:
        if head.startswith(magic):
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _as_text(reply: Reply) -> str | None:
    """The body as text when it is text (decodes in its charset, no NUL), else None."""
    content = reply.content
    if b"\x00" in content[:8192] or _sniff(reply) is not None:
        return None
    charset = str(reply.headers.get("content-type", "")).partition("charset=")[2]
    encoding = charset.split(";")[0].strip().strip('"') or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        if reply.complete or exc.start < len(content) - 4:
            return None
        return content[: exc.start].decode(encoding)  # cut at the cap mid-character


def _describe(reply: Reply) -> str:
    """A short, safe account of a body: its start when it is text, else its kind and size."""
    text = _as_text(reply)
    if text is not None:
        return _printable(text, _PREVIEW) or "(empty)"
    kind = _sniff(reply) or reply.media_type or "binary data"
    size = f"{len(reply.content):,} bytes" + ("" if reply.complete else " or more")
    return f"{kind} ({size})"


def _cut_text(tool: ToolDef, reply: Reply, text: str, limit: int) -> CallToolResult:
    encoded = text.encode()
    if len(encoded) <= limit and reply.complete:
        return _text_result(text)
    shown = encoded[: max(0, limit - 1000)].decode("utf-8", errors="ignore")
    whole = f"{len(encoded):,} bytes" if reply.complete else "larger than this server reads"
    note = (
        f"[Cut here: the reply is {whole}, over this server's limit of {limit:,} bytes per "
        f"result (MCP_MAX_RESULT_BYTES). {advice(tool)}]"
    )
    return CallToolResult(
        content=[TextContent(type="text", text=shown), TextContent(type="text", text=note)]
    )


def _binary(tool: ToolDef, reply: Reply, media: str, *, image: bool = False) -> CallToolResult:
    if not reply.complete:
        return error_result(
            f"The call succeeded ({reply.status}) but the reply ({media}) is larger than this "
            f"server reads (UPSTREAM_MAX_BYTES). {advice(tool)}"
        )
    data = base64.b64encode(reply.content).decode()
    block: ContentBlock
    if image:
        block = ImageContent(type="image", data=data, mime_type=media)
    else:
        resource = BlobResourceContents(
            uri=reply.url or "upstream:reply", mime_type=media, blob=data
        )
        block = EmbeddedResource(type="resource", resource=resource)
    return CallToolResult(content=[block])


def _text_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)])
