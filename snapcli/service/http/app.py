"""`snapcli serve`: the API on an ASGI app (Starlette on uvicorn), for the official SDKs as they
are, pointed at `http://HOST:PORT`.

- ``/`` takes every API call, GET or POST, in either signing protocol (core/signing.py): the
  signature is checked, then the time (within 15 minutes) and the nonce (never seen in that
  window), then the action runs in a worker thread, never on the event loop (job records and
  probes block; jobs themselves run in the queue's worker processes, bounded by its slots).
- ``/results/<path>`` serves the VOD results, and nothing else: a regular file inside the
  results folder, links resolved, no hidden or staging files, with byte ranges.
- Errors answer as the gateway does: ``{"RequestId", "HostId", "Code", "Message",
  "Recommend"}`` with the error's HTTP status.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from snapcli.core.event import JobIdentity
from snapcli.core.signing import (
    MAX_CLOCK_SKEW_SECONDS,
    check_fresh,
    parameters_of,
    verify_request,
)
from snapcli.errors import InternalError, InvalidParameter, SignatureNonceUsed, SnapcliError
from snapcli.service.http.actions import Service, answer

RESULTS_PATH = "/results"
MAX_BODY_BYTES = 1 << 20  # an API call's form body; a larger one is not a request of these


class NonceBook:
    """The nonces seen within the time window, per access key: a request whose nonce was used
    already is a replay, even with a right signature."""

    def __init__(self, window: float = 2 * MAX_CLOCK_SKEW_SECONDS) -> None:
        self.window = window
        self.seen: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()
        self.next_sweep = time.monotonic() + window

    def take(self, access_key_id: str, nonce: str) -> None:
        now = time.monotonic()
        with self.lock:
            if now >= self.next_sweep:
                self.seen = {key: at for key, at in self.seen.items() if now - at < self.window}
                self.next_sweep = now + self.window
            key = (access_key_id, nonce)
            if key in self.seen and now - self.seen[key] < self.window:
                raise SignatureNonceUsed(f"the signature nonce {nonce!r} was used already.")
            self.seen[key] = now


def create_app(service: Service, access_keys: Mapping[str, str] | None) -> Starlette:
    """The app: `access_keys` maps AccessKeyId to secret; None serves without checking
    signatures (loopback only, which the caller enforces)."""
    nonces = NonceBook()

    async def api(request: Request) -> Response:
        host = request.headers.get("host", "")
        try:
            body = await _body(request)
            headers = {
                name: ",".join(sorted(value.strip() for value in request.headers.getlist(name)))
                for name in request.headers.keys()
            }
            query = request.query_params.multi_items()
            if access_keys is None:
                parameters = parameters_of(query, headers, body)
                parameters.setdefault("Action", headers.get("x-acs-action", ""))
                parameters.setdefault("Version", headers.get("x-acs-version", ""))
            else:
                signed = verify_request(
                    request.method, request.url.path, query, headers, body, access_keys.get
                )
                check_fresh(signed, datetime.now(timezone.utc))
                nonces.take(signed.access_key_id, signed.nonce)
                parameters = signed.parameters
            result = await run_in_threadpool(answer, service, parameters)
        except SnapcliError as error:
            return _error(error, host)
        except Exception as error:  # a bug answers as the gateway's InternalError does
            return _error(InternalError(f"{type(error).__name__}: {error}"), host)
        return JSONResponse(result)

    async def result_file(request: Request) -> Response:
        path = _served_file(service.results, request.path_params["path"])
        if path is None:
            return JSONResponse({"Code": "NotFound", "Message": "no such result."}, status_code=404)
        return FileResponse(path)

    routes = [
        Route("/", api, methods=["GET", "POST"]),
        Route(RESULTS_PATH + "/{path:path}", result_file, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes)


async def _body(request: Request) -> bytes:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_BODY_BYTES:
        raise InvalidParameter(f"the request body is over {MAX_BODY_BYTES} bytes.")
    return await request.body()


def _served_file(results: Path, relative: str) -> Path | None:
    """The result file a URL path names: inside the results folder once links are resolved,
    a regular file, and no part of it hidden (staging folders, markers start with a dot)."""
    parts = [part for part in relative.split("/") if part]
    if not parts or any(part.startswith(".") or "\0" in part or "\\" in part for part in parts):
        return None
    real = os.path.realpath(results.joinpath(*parts))
    inside = real.startswith(str(results).rstrip(os.sep) + os.sep)
    return Path(real) if inside and os.path.isfile(real) else None


def _error(error: SnapcliError, host: str) -> JSONResponse:
    body: dict[str, Any] = {
        "RequestId": JobIdentity.new().request_id,
        "HostId": host,
        "Code": error.code,
        "Message": error.message,
        "Recommend": f"snapcli serve answered {error.code}; see docs/serve.md.",
    }
    return JSONResponse(body, status_code=error.http_status)
