"""Changes between two versions of a schema, and which compatibility each one breaks.

Every checker (:mod:`._json`, :mod:`._avro`, :mod:`._xsd`) turns ``(old, new)`` into a list
of :class:`Change`, each phrased from old to new (``field 'total' removed``) and flagged:

- ``breaks_backward``: a reader using the *new* schema cannot read data written with the old;
- ``breaks_forward``: a reader using the *old* schema cannot read data written with the new.

The modes are Confluent Schema Registry's: BACKWARD checks the new schema against the latest
version as a reader, FORWARD as a writer, FULL both; the ``_TRANSITIVE`` variants check
against every earlier version instead of the latest only; NONE checks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Change", "Compatibility", "breaking"]


class Compatibility(StrEnum):
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        return self.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        return self.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True)
class Change:
    """One difference from an old version to a new one."""

    description: str
    breaks_backward: bool = False
    breaks_forward: bool = False

    @property
    def kind(self) -> str:
        """``compatible``, ``breaks backward``, ``breaks forward`` or ``breaks both``."""
        if self.breaks_backward and self.breaks_forward:
            return "breaks both"
        if self.breaks_backward:
            return "breaks backward"
        return "breaks forward" if self.breaks_forward else "compatible"

    def __str__(self) -> str:
        return self.description


def breaking(mode: Compatibility, changes: list[Change]) -> list[Change]:
    """The changes that ``mode`` does not allow."""
    return [
        c
        for c in changes
        if (mode.backward and c.breaks_backward) or (mode.forward and c.breaks_forward)
    ]


def merge(backward: list[str], forward: list[str]) -> list[Change]:
    """Changes from the messages of a reader/writer check run both ways, in order."""
    order = list(dict.fromkeys([*backward, *forward]))
    back, fwd = set(backward), set(forward)
    return [Change(text, text in back, text in fwd) for text in order]
