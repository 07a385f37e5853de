"""Reply fields kept by `keep_fields` (mcpgen.runtime.shaping)."""

from __future__ import annotations

from mcpgen.runtime.shaping import keep_fields


def test_keeps_dotted_paths_through_lists() -> None:
    data = {"items": [{"id": 1, "title": "a", "x": 2}, {"id": 2}], "total": 2, "next": None}
    assert keep_fields(data, ["items.id", "total"]) == {"items": [{"id": 1}, {"id": 2}], "total": 2}
    assert keep_fields(data, ["items"]) == {"items": data["items"]}
    assert keep_fields([{"a": {"b": 1, "c": 2}}], ["a.b"]) == [{"a": {"b": 1}}]
    assert keep_fields("text", ["a"]) == "text"
