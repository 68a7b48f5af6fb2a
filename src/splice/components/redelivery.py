"""The same message id for an item a source takes again, so poison detection can count it.

A polling source (a folder, an SFTP folder, a mailbox) that gives an item back after a
failed delivery takes it again at a later poll as a new delivery. Giving it the id it had
the first time lets the runtime recognise the redelivery (attempt counts, quarantine).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from splice.message import new_id

__all__ = ["RedeliveryIds"]


class RedeliveryIds:
    """Message ids by item key (a file's name and size, an email's UID...), newest kept."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[Hashable, str] = OrderedDict()

    def id_for(self, key: Hashable) -> str:
        """The id ``key`` had before, or a new one; the oldest keys are forgotten first."""
        message_id = self._ids.pop(key, None) or new_id()
        self._ids[key] = message_id
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return message_id
