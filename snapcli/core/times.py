"""Times as people write them on a command line, turned into the API's milliseconds. Pure.

A bare whole number is milliseconds, as in the API. Otherwise: a number with a unit (`500ms`,
`90s`, `2.5s`, `1m`, `1.5h`), or a clock (`1:30`, `1:02:03.5`: minutes or hours first).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from snapcli.errors import InvalidParameter

_UNITS = {"ms": Decimal(1), "s": Decimal(1000), "m": Decimal(60_000), "h": Decimal(3_600_000)}
_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)")
FORMS = "ms (1500), a unit (90s, 2.5s, 1m, 500ms) or a clock (1:30, 1:02:03.5)"


def time_ms(text: str, name: str) -> int:
    """A time in whole ms (rounded to the nearest), or InvalidParameter naming `name`."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    try:
        milliseconds = _milliseconds(value)
    except InvalidOperation:
        milliseconds = None
    if milliseconds is None:
        raise InvalidParameter(f"{name} must be a time: {FORMS}; got {text!r}.")
    return int(milliseconds.to_integral_value(rounding="ROUND_HALF_UP"))


def whole_seconds(text: str, name: str) -> int:
    """A duration in whole seconds (a bare number is seconds, as Interval is in the API)."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    if re.fullmatch(r"\d+\.\d*", value):
        raise InvalidParameter(f"{name} must be whole seconds, got {text!r}.")
    milliseconds = time_ms(value, name)
    if milliseconds % 1000:
        raise InvalidParameter(f"{name} must be whole seconds, got {text!r}.")
    return milliseconds // 1000


def _milliseconds(value: str) -> Decimal | None:
    unit = _WITH_UNIT.fullmatch(value)
    if unit:
        return Decimal(unit.group(1)) * _UNITS[unit.group(2)]
    clock = _CLOCK.fullmatch(value)
    if clock:
        hours, minutes, seconds = clock.groups()
        if hours is not None and int(minutes) >= 60 or Decimal(seconds) >= 60:
            return None
        total = Decimal(hours or 0) * 3600 + Decimal(minutes) * 60 + Decimal(seconds)
        return total * 1000
    return None
