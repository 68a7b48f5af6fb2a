"""HTTP replies, and the one place that turns an error into an RFC 9457 problem document.

How a settled delivery or a refused request is answered::

    MessageError (CodecError, MappingError, ContractViolation)  400  detail, code, field, errors
    TransientError, NotConnected                                503  Retry-After when known
    PermanentError                                              502
    any other exception                                         500  generic detail only
    no route / wrong method / body too large                    404 / 405 + Allow / 413
    flow saturated or source closing / reply timeout            503 + Retry-After / 504

Only a :class:`~splice.errors.MessageError` is described in full to the caller: it is about
the caller's own message. Every other problem says what kind of failure it was and its
stable ``code``, never the text of an internal error (host names, queries, stack traces).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from splice.errors import (
    ContractViolation,
    MessageError,
    NotConnected,
    PermanentError,
    TransientError,
)

__all__ = [
    "PROBLEM_TYPE",
    "Reply",
    "from_error",
    "internal",
    "method_not_allowed",
    "not_found",
    "problem",
    "reply_timeout",
    "too_large",
    "unavailable",
]

PROBLEM_TYPE = "urn:splice:error:"
"""Problem ``type`` prefix; the rest is the error's stable code (``urn:splice:error:codec``)."""

PROBLEM_JSON = "application/problem+json"

RawHeaders = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class Reply:
    """A complete HTTP response, ready to send: status, body, content type, extra headers."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: RawHeaders = field(default_factory=list)


def problem(status: int, title: str, detail: str, code: str, **extensions: Any) -> Reply:
    """An ``application/problem+json`` reply with the standard members and ``code``."""
    document = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    document.update(extensions)
    return Reply(status, orjson.dumps(document), PROBLEM_JSON)


def from_error(error: BaseException) -> Reply:
    """The reply for a delivery nacked with ``error`` (see the table in the module docs)."""
    if isinstance(error, MessageError):
        return _bad_message(error)
    if isinstance(error, TransientError | NotConnected):
        reply = problem(
            503,
            "Service unavailable",
            "A system this flow depends on is unavailable; retry later.",
            error.code,
        )
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            reply.headers.append((b"retry-after", str(math.ceil(retry_after)).encode()))
        return reply
    if isinstance(error, PermanentError):
        return problem(
            502, "Bad gateway", "A system this flow delivers to refused the message.", error.code
        )
    return internal()


def _bad_message(error: MessageError) -> Reply:
    extensions: dict[str, Any] = {}
    if error.field is not None:
        extensions["field"] = error.field
    if isinstance(error, ContractViolation):
        extensions["errors"] = [
            {"pointer": pointer, "detail": detail} for pointer, detail in error.errors
        ]
    return problem(400, "Bad message", error.message, error.code, **extensions)


def internal() -> Reply:
    return problem(500, "Internal error", "The flow failed unexpectedly.", "internal")


def not_found() -> Reply:
    return problem(404, "Not found", "No flow listens on this path.", "http-not-found")


def method_not_allowed(allowed: list[str]) -> Reply:
    reply = problem(
        405, "Method not allowed", "This path does not accept this method.", "http-method"
    )
    reply.headers.append((b"allow", ", ".join(sorted(allowed)).encode()))
    return reply


def too_large(limit: int) -> Reply:
    reply = problem(
        413, "Content too large", f"The request body exceeds {limit} bytes.", "http-too-large"
    )
    reply.headers.append((b"connection", b"close"))
    return reply


def unavailable() -> Reply:
    """The flow did not take the request in time (saturated) or is being stopped."""
    reply = problem(
        503, "Service unavailable", "The flow is busy or stopping; retry later.", "http-busy"
    )
    reply.headers.append((b"retry-after", b"1"))
    return reply


def reply_timeout(seconds: float) -> Reply:
    return problem(
        504,
        "Reply timeout",
        f"The flow did not finish within {seconds:g}s; the message is still being processed.",
        "http-reply-timeout",
    )
