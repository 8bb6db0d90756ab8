"""Delivering the SnapshotComplete event to UserData.MessageCallback.CallbackURL by HTTP POST.

What a callback may reach and do (docs/safety.md):
- only the http or https URL it names: a redirect is never followed (a 3xx answer means "not
  delivered"), so no other scheme, host or method is ever reached;
- each attempt has a hard deadline for connecting, sending and hearing the answer together,
  and the whole callback another, however slowly the server trickles bytes;
- only the answer's status line is read (at most 8 KiB); a malformed answer is "not
  delivered", and nothing the server sends is ever shown: messages carry the status number.

A callback that cannot be delivered is reported to the caller; it never turns a finished job into
a failed one. Delivered means a 2xx answer to the whole event.

We speak this much HTTP ourselves because urllib follows redirects, times out per read (not per
request), and raises on malformed answers in ways that are hard to bound.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, urlsplit

from snapcli.core.event import SnapshotComplete
from snapcli.core.request import SnapshotRequest
from snapcli.errors import Interrupted, SnapcliError, printable

ATTEMPTS = 3
ATTEMPT_SECONDS = 5.0
CALLBACK_SECONDS = 12.0
BACKOFF_SECONDS = 0.5
MAX_STATUS_LINE = 8192
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5]\d\d)(?: |\r|$)")


def run_announced(
    request: SnapshotRequest,
    run: Callable[[], SnapshotComplete],
    signing_key: str | None = None,
) -> SnapshotComplete:
    """Run a job and POST its event, success or failure, to the request's callback URL, if it
    has one (noting a failed delivery on the event), signed with `signing_key` when given. An
    interrupted job is not over: it will be run again, so it is not announced."""
    try:
        event = run()
    except SnapcliError as error:
        if isinstance(error.event, SnapshotComplete) and not isinstance(error, Interrupted):
            _announce(request, error.event, signing_key)
        raise
    return _announce(request, event, signing_key)


def _announce(
    request: SnapshotRequest, event: SnapshotComplete, signing_key: str | None
) -> SnapshotComplete:
    if request.user_data and request.user_data.callback_url:
        event.callback_error = deliver(request.user_data.callback_url, event, signing_key)
    return event


def deliver(
    url: str, event: dict[str, Any], signing_key: str | None = None, attempts: int = ATTEMPTS
) -> str | None:
    """POST the event as JSON; None when delivered (a 2xx answer), else why it was not. With a
    `signing_key`, each attempt carries X-VOD-TIMESTAMP and X-VOD-SIGNATURE as the cloud's
    callbacks do (md5 of "URL|timestamp|key"), so that a receiver can test its check."""
    shown = printable(url)
    target = urlsplit(url)
    if target.scheme not in ("http", "https") or not target.hostname:
        return f"the callback to {shown} was not sent (only http and https URLs are)"
    body = json.dumps(event, ensure_ascii=False).encode()
    deadline = time.monotonic() + CALLBACK_SECONDS
    problem = "not tried"
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(BACKOFF_SECONDS * 2 ** (attempt - 1), _left(deadline)))
        left = _left(deadline)
        if left <= 0.05:
            break
        headers = ""
        if signing_key:
            from snapcli.core.signing import callback_signature  # only for signed callbacks

            now = int(time.time())
            signature = callback_signature(url, now, signing_key)
            headers = f"X-VOD-TIMESTAMP: {now}\r\nX-VOD-SIGNATURE: {signature}\r\n"
        status, problem = _attempt(target, body, headers, min(ATTEMPT_SECONDS, left))
        if status is not None and 200 <= status < 300:
            return None
        if status is not None and status < 500 and status not in (408, 429):
            break  # a redirect or a refusal: asking again will not help
    return f"the callback to {shown} was not delivered ({problem})"


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _attempt(
    target: SplitResult, body: bytes, headers: str, seconds: float
) -> tuple[int | None, str]:
    """One POST within `seconds`, whatever the server does: (status or None, what happened).
    It runs in a thread of its own, so that not even a name lookup can hold it longer."""
    outcome: list[tuple[int | None, str]] = []
    sockets: list[socket.socket] = []
    deadline = time.monotonic() + seconds

    def post() -> None:
        try:
            outcome.append(_post(target, body, headers, deadline, sockets))
        except Exception as error:  # any failure of the exchange is "not delivered"
            outcome.append((None, _reason(error)))

    worker = threading.Thread(target=post, name="snapcli-callback", daemon=True)
    worker.start()
    worker.join(seconds)
    for sock in sockets:  # ends the exchange if it is still going on
        sock.close()
    if not outcome:
        return None, f"no answer within {seconds:g} s"
    return outcome[0]


def _post(
    target: SplitResult,
    body: bytes,
    headers: str,
    deadline: float,
    sockets: list[socket.socket],
) -> tuple[int | None, str]:
    host = target.hostname or ""
    https = target.scheme == "https"
    port = target.port or (443 if https else 80)
    sock = socket.create_connection((host, port), timeout=_left(deadline))
    sockets.append(sock)
    if https:
        import ssl  # only for https callbacks: it is slow to import

        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sockets.append(sock)
    shown_host = f"[{host}]" if ":" in host else host
    if target.port:
        shown_host += f":{target.port}"
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {shown_host}\r\nUser-Agent: snapcli\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}"
        "Connection: close\r\n\r\n"
    )
    sock.settimeout(max(_left(deadline), 0.01))
    sock.sendall(head.encode("ascii") + body)
    answer = b""
    while b"\n" not in answer and len(answer) < MAX_STATUS_LINE:
        sock.settimeout(max(_left(deadline), 0.01))
        chunk = sock.recv(MAX_STATUS_LINE - len(answer))
        if not chunk:
            break
        answer += chunk
    sock.close()
    match = _STATUS_LINE.match(answer)
    if match is None:
        return None, "the answer was not HTTP" if answer else "the connection closed unanswered"
    status = int(match.group(1))
    if 300 <= status < 400:
        return status, f"HTTP {status}: a redirect, not followed"
    return status, f"HTTP {status}"


def _reason(error: Exception) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "no answer in time"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__
