"""Starting `snapcli serve`: the folders checked, the socket bound, uvicorn run until stopped."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path

from snapcli.errors import InvalidParameter
from snapcli.service.http.actions import Service
from snapcli.service.http.app import RESULTS_PATH, create_app
from snapcli.service.storage import Storage
from snapcli.settings import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_access_keys(entries: list[str]) -> dict[str, str]:
    """ID:SECRET entries (flags, lines of a file, comma lists of $SNAPCLI_ACCESS_KEYS)."""
    keys: dict[str, str] = {}
    for entry in entries:
        key_id, colon, secret = entry.strip().partition(":")
        if not colon or not key_id or not secret:
            raise InvalidParameter(
                f"an access key is ID:SECRET, got {key_id + ':…' if colon else entry!r}."
            )
        keys[key_id] = secret
    return keys


def serve(
    *,
    host: str,
    port: int,
    media_root: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    access_keys: Mapping[str, str] | None,
    callback_key: str | None = None,
    public_url: str | None = None,
    settings: Settings | None = None,
    on_ready: Callable[[str, Service], None] | None = None,
) -> None:
    """Serve the API until interrupted. `access_keys` None serves unsigned calls, on a
    loopback address only. `on_ready(url, service)` is called once the socket listens."""
    if access_keys is None and not is_loopback(host):
        raise InvalidParameter(
            f"--no-auth serves anyone who can connect: only on a loopback address, not {host}."
        )
    if access_keys is not None and not access_keys:
        raise InvalidParameter(
            "no access key: give --access-key ID:SECRET (or $SNAPCLI_ACCESS_KEYS), or --no-auth "
            "on a loopback address."
        )
    media = Storage.at(media_root).root
    os.makedirs(output_dir, exist_ok=True)
    results = Path(os.path.realpath(output_dir))
    if media == results or media.is_relative_to(results):
        raise InvalidParameter(
            f"the results folder {results} holds the media root: serving results would serve "
            "the videos too. Put the results elsewhere (--output-dir)."
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host.strip("[]"), port), family=family, backlog=256)
    except OSError as error:
        raise InvalidParameter(f"cannot listen on {host}:{port} ({error.strerror}).") from None
    bound = listener.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    if host in ("0.0.0.0", "::"):
        shown = socket.getfqdn()
    url = (public_url or f"http://{shown}:{bound}").rstrip("/")
    service = Service(media, results, url + RESULTS_PATH, callback_key, settings)
    import uvicorn

    config = uvicorn.Config(
        create_app(service, access_keys), log_level="warning", access_log=False, lifespan="off"
    )
    if on_ready:
        on_ready(url, service)
    uvicorn.Server(config).run(sockets=[listener])
