"""The server runtime, copied verbatim from mcpgen into every generated project.

Don't edit these files: each regeneration brings mcpgen's current runtime (edits here are
merged like those of any generated file, and may conflict). Customise in ``custom.py`` —
hooks before and after every tool call, result shaping, extra tools — which mcpgen never
changes. This project's own values live in ``project.py``, its tools under ``tools/``.

Modules: ``definitions`` (what generated code declares), ``config`` (settings from the
environment), ``encoding`` (arguments → HTTP request parts), ``upstream`` (the shared HTTP
client), ``server`` (the MCP server and its HTTP app), ``replies`` (upstream replies → tool
results, within the size caps), ``limits`` (argument checks and the HTTP front of /mcp),
``redaction`` (credentials kept out of results and logs), ``resources`` and ``compact`` (only
in projects that use them), ``shaping`` (reply fields to keep), ``logs`` (what is logged),
``cli`` (the console script).
"""
