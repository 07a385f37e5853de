"""Form-urlencoded and multipart bodies reach a real upstream encoded as the API expects."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import net, procs

SPEC = Path(__file__).parent / "data" / "forms.yaml"

PROBE = """
import anyio, base64, sys
from mcp import Client
from forms_mcp.runtime.config import Settings
from forms_mcp.server import create_server

async def main() -> None:
    server = create_server(Settings(base_url=sys.argv[1], retries=0))
    async with Client(server) as client:
        charge = await client.call_tool(
            "create_charge",
            {"amount": 100, "metadata": {"order": "7"}, "expand": ["customer", "invoice"]},
        )
        photo = await client.call_tool(
            "upload_photo",
            {"petId": "p1", "caption": "a cat", "file": base64.b64encode(b"hello").decode()},
        )
        bad = await client.call_tool("upload_photo", {"petId": "p1", "file": "not base64!"})
    print(charge.is_error, photo.is_error, bad.is_error)

anyio.run(main)
"""


def test_form_and_multipart_bodies(tmp_path: Path) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def record(request: Request) -> Response:
        seen.append((request.url.path, request.headers["content-type"], await request.body()))
        if request.url.path.endswith("/photo"):
            return Response(status_code=204)
        return JSONResponse({"id": "ch_1"})

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    out = tmp_path / "project"
    argv = [sys.executable, "-m", "mcpgen", "generate", str(SPEC), "-o", str(out)]
    procs.run_bounded(argv, timeout=180)
    with net.serve_in_thread(app) as base:
        done = procs.run_bounded(
            [sys.executable, "-c", PROBE, base], env={"PYTHONPATH": str(out / "src")}, timeout=60
        )
    assert done.stdout.split() == ["False", "False", "True"], done.stdout + done.stderr
    (form_path, form_type, form_body), (photo_path, photo_type, photo_body) = seen
    assert (form_path, form_type) == ("/charges", "application/x-www-form-urlencoded")
    assert form_body == (
        b"amount=100&metadata%5Border%5D=7&expand%5B0%5D=customer&expand%5B1%5D=invoice"
    )
    assert photo_path == "/pets/p1/photo"
    assert photo_type.startswith("multipart/form-data; boundary=")
    assert b'name="caption"\r\n\r\na cat' in photo_body
    assert b'name="file"; filename="file"' in photo_body
    assert b"\r\n\r\nhello\r\n" in photo_body
    assert base64.b64encode(b"hello") not in photo_body
