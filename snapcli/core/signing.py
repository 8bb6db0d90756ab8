"""The cloud API's two request signatures, checked as its gateway checks them. Pure.

ACS3-HMAC-SHA256 (the official SDKs' default): the client hashes a canonical form of the request
(method, path, sorted query, the headers it names as signed, the body's SHA-256) and signs that
hash with HMAC-SHA256; the Authorization header carries the key id, the signed header names and
the signature. The v2 RPC signature (`signature_algorithm='v2'`): every parameter, query and form
body alike, sorted and percent-encoded into one string, signed with HMAC-SHA1 under
"secret&", base64 in the Signature parameter. Both carry a time and a nonce, which the caller
checks for freshness and reuse (a replayed request is refused even with a right signature).

    >>> signed = verify_request("GET", "/", [("Action", "X")], headers, b"", keys.get)

The callback signature a VOD receiver checks is here too: md5("URL|timestamp|key").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from snapcli.errors import (
    IncompleteSignature,
    InvalidAccessKeyId,
    InvalidTimeStamp,
    SignatureDoesNotMatch,
)

ACS3 = "ACS3-HMAC-SHA256"
# Headers an ACS3 signature must cover: without them a request could be replayed with another
# action, time, nonce or body under the same signature.
MUST_SIGN = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
             "x-acs-content-sha256")  # fmt: skip
MAX_CLOCK_SKEW_SECONDS = 15 * 60  # the gateway's window for a request's time


@dataclass(frozen=True)
class SignedRequest:
    """What a valid signature vouches for: who signed, when, with which nonce, and the API
    parameters (the query's and a form body's)."""

    access_key_id: str
    time: datetime
    nonce: str
    parameters: dict[str, str]


SecretOf = Callable[[str], "str | None"]


def verify_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    secret_of: SecretOf,
) -> SignedRequest:
    """Check a request's signature, of either kind; raises the API's error when it fails."""
    form = _form(headers, body)
    authorization = headers.get("authorization", "")
    if authorization.startswith(ACS3 + " "):
        return _verify_acs3(method, path, query, headers, body, form, authorization, secret_of)
    parameters = _unique([*query, *form])
    if "Signature" in parameters:
        return _verify_rpc(method, parameters, secret_of)
    raise IncompleteSignature(
        "the request carries no signature (an ACS3-HMAC-SHA256 Authorization header, or the v2 "
        "Signature parameter)."
    )


def parameters_of(
    query: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
) -> dict[str, str]:
    """A request's API parameters without checking any signature (--no-auth)."""
    return _unique([*query, *_form(headers, body)])


def callback_signature(url: str, timestamp: int, key: str) -> str:
    """X-VOD-SIGNATURE of a callback: md5 of "URL|X-VOD-TIMESTAMP|key", in hex."""
    return hashlib.md5(f"{url}|{timestamp}|{key}".encode()).hexdigest()


def _verify_acs3(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    form: list[tuple[str, str]],
    authorization: str,
    secret_of: SecretOf,
) -> SignedRequest:
    fields = dict(
        part.strip().split("=", 1)
        for part in authorization[len(ACS3) + 1 :].split(",")
        if "=" in part
    )
    key_id, names, signature = (
        fields.get(k, "") for k in ("Credential", "SignedHeaders", "Signature")
    )
    signed = names.split(";") if names else []
    missing = [name for name in MUST_SIGN if name not in signed or name not in headers]
    if not key_id or not signature or missing:
        raise IncompleteSignature(
            "the Authorization header must name the credential, the signature and sign "
            f"{', '.join(MUST_SIGN)} ({', '.join(missing) or 'credential or signature'} missing)."
        )
    secret = _secret(key_id, secret_of)
    content_hash = hashlib.sha256(body).hexdigest()
    if headers["x-acs-content-sha256"] != content_hash:
        raise SignatureDoesNotMatch("x-acs-content-sha256 is not the SHA-256 of the body.")
    canonical = "\n".join(
        [
            method.upper(),
            path or "/",
            "&".join(f"{key}={_encoded(value)}" for key, value in sorted(query)),
            "".join(f"{name}:{headers[name].strip()}\n" for name in signed),
            ";".join(signed),
            content_hash,
        ]
    )
    to_sign = f"{ACS3}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise SignatureDoesNotMatch(
            "the request signature does not match: check the AccessKeySecret."
        )
    parameters = _unique([*query, *form])
    parameters.setdefault("Action", headers["x-acs-action"])
    parameters.setdefault("Version", headers["x-acs-version"])
    return SignedRequest(
        key_id, _time(headers["x-acs-date"]), headers["x-acs-signature-nonce"], parameters
    )


def _verify_rpc(method: str, parameters: dict[str, str], secret_of: SecretOf) -> SignedRequest:
    required = ("AccessKeyId", "SignatureMethod", "Timestamp", "SignatureNonce")
    missing = [name for name in required if not parameters.get(name)]
    if missing:
        raise IncompleteSignature(f"the signed request lacks {', '.join(missing)}.")
    if parameters["SignatureMethod"] != "HMAC-SHA1":
        raise IncompleteSignature(
            f"SignatureMethod must be HMAC-SHA1, got {parameters['SignatureMethod']!r}."
        )
    secret = _secret(parameters["AccessKeyId"], secret_of)
    signed = {key: value for key, value in parameters.items() if key != "Signature"}
    canonical = "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in sorted(signed.items()))
    to_sign = f"{method.upper()}&%2F&{_encoded(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), parameters["Signature"]):
        raise SignatureDoesNotMatch(
            "the request signature does not match: check the AccessKeySecret."
        )
    return SignedRequest(
        parameters["AccessKeyId"],
        _time(parameters["Timestamp"]),
        parameters["SignatureNonce"],
        signed,
    )


def check_fresh(signed: SignedRequest, now: datetime) -> None:
    """Refuse a request whose time is outside the gateway's window around `now`."""
    skew = abs((now - signed.time).total_seconds())
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise InvalidTimeStamp(
            f"the request's time {signed.time:%Y-%m-%dT%H:%M:%SZ} is {skew:.0f} s from the "
            f"server's; at most {MAX_CLOCK_SKEW_SECONDS} s are allowed."
        )


def _secret(key_id: str, secret_of: SecretOf) -> str:
    secret = secret_of(key_id)
    if secret is None:
        raise InvalidAccessKeyId(f"the AccessKeyId {key_id!r} is not one of this server's.")
    return secret


def _encoded(text: str) -> str:
    """Percent-encoding as the signatures use it: everything but A-Z a-z 0-9 - _ . ~."""
    return quote(text, safe="~")


def _time(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise InvalidTimeStamp(
            f"the request's time {text!r} is not an ISO 8601 UTC time (2026-01-31T12:00:00Z)."
        ) from None


def _form(headers: Mapping[str, str], body: bytes) -> list[tuple[str, str]]:
    """A form body's parameters; none for another body."""
    from urllib.parse import parse_qsl

    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded" or not body:
        return []
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise IncompleteSignature("the form body does not parse.") from None


def _unique(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for key, value in pairs:
        if key in parameters:
            raise IncompleteSignature(f"the parameter {key} is given twice.")
        parameters[key] = value
    return parameters
