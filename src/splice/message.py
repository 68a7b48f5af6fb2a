"""The message envelope that travels through a flow.

A :class:`Message` carries a body (raw ``bytes`` until a codec decodes it, parsed data
after), its headers and content type, a sortable id (ULID), the correlation id shared by
every message derived from the same input, a lineage trail of every boundary crossed,
and the number of delivery attempts so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ulid import ULID

__all__ = ["Hop", "Message", "new_id"]


def new_id() -> str:
    """A new sortable, unique message id (a ULID in its 26-character form)."""
    return str(ULID())


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

    def __post_init__(self) -> None:
        if not self.correlation_id:
            self.correlation_id = self.id

    @property
    def is_encoded(self) -> bool:
        return isinstance(self.body, bytes | bytearray | memoryview)

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
