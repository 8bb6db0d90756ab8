"""A request in the API's own words, as it arrives on the command line: one mapping of parameter
names to values from JSON objects, ``Key=Value`` arguments and query strings. Pure.

- ``{"VideoId": "a.mp4", "Count": 10}`` (an argument, a file, or ``-`` for stdin): JSON, values
  keep their JSON types.
- ``Count=10``: one parameter, taken literally (no URL-decoding: file names may hold ``%``).
- ``Action=SubmitSnapshotJob&VideoId=a.mp4&SpecifiedOffsetTimes=%5B1000%2C2000%5D``, or a whole
  URL with a ``?``: a query string, URL-decoded (``+`` is a space), as the SDKs send it.

Later arguments win over earlier ones. Within one query string, a repeated
``SpecifiedOffsetTimes`` collects its values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from snapcli.core.request import parse_request_json
from snapcli.errors import InvalidParameter

_COLLECTED = "SpecifiedOffsetTimes"


def read_wire_request(arguments: Sequence[str], read_stdin: Callable[[], str]) -> dict[str, Any]:
    """Merge the request pieces in `arguments` (see the module's docstring) into one mapping."""
    request: dict[str, Any] = {}
    for argument in arguments:
        if argument == "-":
            pairs = _pieces_of_text(read_stdin(), "standard input")
        elif argument.lstrip().startswith("{"):
            pairs = list(parse_request_json(argument, "the argument").items())
        elif "=" in argument and not _is_file(argument):
            pairs = _pieces_of_assignment(argument)
        elif _is_file(argument):
            try:
                text = Path(argument).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise InvalidParameter(
                    f"the request file {argument} cannot be read: {error}."
                ) from None
            pairs = _pieces_of_text(text, argument)
        else:
            raise InvalidParameter(
                f"{argument!r} is not a request: give Key=Value pairs, a query string, "
                "a JSON object, a JSON file, or - for standard input."
            )
        piece: dict[str, Any] = {}
        for key, value in pairs:
            _put(piece, key, value)
        request.update(piece)
    return request


def _is_file(argument: str) -> bool:
    try:
        return Path(argument).is_file()
    except OSError:  # a long query string is too long for a file name
        return False


def _pieces_of_text(text: str, source: str) -> list[tuple[str, Any]]:
    text = text.strip()
    if text.startswith("{"):
        return list(parse_request_json(text, source).items())
    return _query_pairs(text, source)


def _pieces_of_assignment(argument: str) -> list[tuple[str, Any]]:
    if "&" in argument or argument.startswith("?") or "://" in argument.split("=", 1)[0]:
        return _query_pairs(argument, "the query string")
    key, value = argument.split("=", 1)
    if not key.strip():
        raise InvalidParameter(f"{argument!r} has no parameter name before '='.")
    return [(key.strip(), value)]


def _query_pairs(text: str, source: str) -> list[tuple[str, Any]]:
    """The pairs of a query string, or of the query part of a whole URL."""
    if "?" in text.split("=", 1)[0] or text.startswith("?"):
        text = text.split("?", 1)[1]
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidParameter(f"{source} is not a query string of Key=Value pairs.") from None
    return list(pairs)


def _put(request: dict[str, Any], key: str, value: Any) -> None:
    if key == _COLLECTED and key in request:
        earlier = request[key]
        request[key] = [*(earlier if isinstance(earlier, list) else [earlier]), value]
    else:
        request[key] = value
