"""Delivering the SnapshotComplete event to UserData.MessageCallback.CallbackURL by HTTP POST.

A callback that cannot be delivered is reported to the caller; it never turns a finished job into
a failed one.
"""

from __future__ import annotations

import json
import time
from typing import Any

ATTEMPTS = 3
TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = 0.5


def deliver(url: str, event: dict[str, Any], attempts: int = ATTEMPTS) -> str | None:
    """POST the event as JSON; None when delivered (a 2xx answer), else why it was not."""
    import urllib.error  # here, not above: most jobs have no callback, and this import is slow
    import urllib.request

    body = json.dumps(event, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "snapcli"},
    )
    problem = "not tried"
    for attempt in range(attempts):
        if attempt:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                if 200 <= answer.status < 300:
                    return None
                problem = f"HTTP {answer.status}"
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}"
            if 400 <= error.code < 500 and error.code != 429:
                break  # the receiver refuses it; asking again will not help
        except (urllib.error.URLError, OSError) as error:
            problem = str(getattr(error, "reason", error))
    return f"the callback to {url} was not delivered ({problem})"
