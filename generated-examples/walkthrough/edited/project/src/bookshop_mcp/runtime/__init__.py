"""The server runtime, copied verbatim from mcpgen into every generated project.

Don't edit these files: each regeneration brings mcpgen's current runtime (edits here are
merged like those of any generated file, and may conflict). Customise in ``custom.py`` —
hooks before and after every tool call, result shaping, extra tools — which mcpgen never
changes. This project's own values live in ``project.py``, its tools under ``tools/``.

Modules: ``definitions`` (what generated code declares, and the catalog that lists tools
without importing their modules), ``config`` (settings from the environment), ``encoding``
(arguments → HTTP request parts), ``upstream`` (the shared HTTP client), ``credentials`` (what
each upstream call carries: keys, OAuth client credentials, per-user tokens), ``replies``
(upstream replies → tool results, within the size caps), ``limits`` (argument checks and the
HTTP front of /mcp), ``redaction`` (credentials kept out of results and logs), ``server`` (the
MCP server and its HTTP app), ``listing`` (tools/list answered from precomputed bytes),
``auth`` (who may call it: ``MCP_AUTH_MODE``), ``proxy`` (the ``oauth-proxy`` authorization
server), ``state`` (state shared by replicas: SQLite or Redis), ``resources``, ``compact`` and
``search`` (only in projects that use them), ``shaping`` (reply fields to keep), ``logs`` (JSON
log lines), ``observability`` (a log line per request and per upstream call, traces),
``metrics`` (Prometheus, ``GET /metrics``), ``cli`` (the console script, and the drain on
SIGTERM).
"""
