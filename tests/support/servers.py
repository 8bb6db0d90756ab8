"""Real servers on loopback: a receiver for callbacks, and the stand-in for the cloud that catches
what an official SDK client sends."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """A local HTTP server that keeps the path, headers and body (raw, and as JSON where it is)
    of every POST it answers; it answers with `answer` (JSON)."""

    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.paths: list[str] = []
        self.bodies: list[Any] = []
        self.raw_bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        reply = json.dumps(answer or {}).encode()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.paths.append(self.path)
                receiver.headers.append(dict(self.headers.items()))
                receiver.raw_bodies.append(body)
                try:
                    receiver.bodies.append(json.loads(body) if body else None)
                except ValueError:
                    receiver.bodies.append(None)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def sdk_query_string(client_class: Any, request: Any, answer: dict[str, Any]) -> str:
    """The query string an official SDK client sends for a SubmitSnapshotJob request, caught by
    a local server standing in for the cloud."""
    from alibabacloud_tea_openapi import models as open_api

    receiver = Receiver(answer)
    config = open_api.Config(
        access_key_id="id", access_key_secret="secret", protocol="http",
        endpoint=f"127.0.0.1:{receiver.port}", region_id="cn-shanghai",
    )  # fmt: skip
    try:
        client_class(config).submit_snapshot_job(request)
    finally:
        receiver.close()
    return receiver.paths[0].split("?", 1)[1]


# Tests that need ffmpeg and generated videos are marked `media`; the rest are the fast tier
# (`pytest -m "not media"`), which runs with no ffmpeg at all.
