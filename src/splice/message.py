"""The message envelope that travels through a flow.

A :class:`Message` carries a body (raw ``bytes`` until a codec decodes it, parsed data
after), its headers and content type, a sortable id (ULID), the correlation id shared by
every message derived from the same input, a lineage trail of every boundary crossed,
and the number of delivery attempts so far.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hop", "Message", "new_id"]

_ENCODED = (bytes, bytearray, memoryview)
"""A tuple, not ``bytes | bytearray | memoryview``: that union would be built at every call."""


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
"""Every 10-bit value as its two base-32 characters."""
_TIME_SHIFTS = range(45, -1, -5)
_stamp = (-1, "")
"""The last millisecond an id was made in, and its 10 characters."""


def _fresh_pool() -> None:
    global _pool
    _pool = (os.urandom(10 * _POOL_IDS), itertools.count())


_POOL_IDS = 256
_pool = (b"", itertools.count(_POOL_IDS))
"""Random bytes for the next ids and the next free slot: one os.urandom call per 256 ids.

``next()`` on the counter is atomic, so threads never share a slot; a child process draws
a pool of its own (after fork), so that two workers never make the same ids.
"""
os.register_at_fork(after_in_child=_fresh_pool)


def _random80() -> int:
    pool, slots = _pool
    slot = next(slots)
    if slot >= _POOL_IDS:
        _fresh_pool()
        pool, slots = _pool
        slot = next(slots)
    return int.from_bytes(pool[10 * slot : 10 * slot + 10])


def new_id() -> str:
    """A new sortable, unique message id (a ULID in its 26-character form).

    48 bits of Unix time in milliseconds then 80 random bits from ``os.urandom``, in
    Crockford's base 32, as ``python-ulid`` writes it, at a fraction of the cost (the
    time part is written once per millisecond).
    """
    global _stamp
    ms = time.time_ns() // 1_000_000
    stamp = _stamp
    if stamp[0] != ms:
        stamp = _stamp = (ms, "".join([_CROCKFORD[(ms >> shift) & 31] for shift in _TIME_SHIFTS]))
    r = _random80()
    pairs = _PAIRS
    return (
        stamp[1]
        + pairs[r >> 70]
        + pairs[(r >> 60) & 1023]
        + pairs[(r >> 50) & 1023]
        + pairs[(r >> 40) & 1023]
        + pairs[(r >> 30) & 1023]
        + pairs[(r >> 20) & 1023]
        + pairs[(r >> 10) & 1023]
        + pairs[r & 1023]
    )


@dataclass(frozen=True, slots=True)
class Hop:
    """One boundary crossed: where (``flow``/``component``), what happened, and when."""

    flow: str
    component: str
    event: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "component": self.component, "event": self.event, "at": self.at}


@dataclass(slots=True)
class Message:
    """One message. ``body`` is ``bytes`` (encoded) or any JSON-like value (decoded)."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    id: str = field(default_factory=new_id)
    correlation_id: str = ""
    lineage: list[Hop] = field(default_factory=list)
    attempts: int = 0
    targets: tuple[str, ...] | None = None
    """Sink names chosen by a routing step; ``None`` means every sink of the flow."""
    plain: bool = field(default=False, repr=False, compare=False)
    """The body is known to be plain JSON data, as splice's JSON decoder read it: objects
    with text keys, arrays, text, booleans, null, integers within 2**53 and finite floats,
    less than 1024 levels deep. Set by ``decode``; any new body clears it. Steps that check
    the body's types (validate, map) then skip that walk."""

    def __post_init__(self) -> None:
        if not self.correlation_id:
            self.correlation_id = self.id

    @property
    def is_encoded(self) -> bool:
        return isinstance(self.body, _ENCODED)

    def derive(self, body: Any, *, content_type: str | None = None) -> Message:
        """A child message: new id, same correlation id, headers and lineage copied."""
        return Message(
            body=body,
            headers=dict(self.headers),
            content_type=content_type if content_type is not None else self.content_type,
            correlation_id=self.correlation_id,
            lineage=list(self.lineage),
            attempts=self.attempts,
            targets=self.targets,
        )

    def replace_body(self, body: Any, content_type: str | None) -> Message:
        """The same message (same id) with a new body, as a step that transforms it returns."""
        self.body = body
        self.content_type = content_type
        self.plain = False
        return self

    def record(self, flow: str, component: str, event: str) -> None:
        """Append a lineage hop stamped with the wall-clock time."""
        self.lineage.append(Hop(flow, component, event, time.time()))

    def body_bytes(self) -> bytes:
        """The body as bytes; only valid once encoded."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, bytearray | memoryview):
            return bytes(self.body)
        if isinstance(self.body, str):
            return self.body.encode()
        raise TypeError("message body is not encoded yet; add an 'encode' step")
