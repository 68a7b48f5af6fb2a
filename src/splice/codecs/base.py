"""The contract every codec fulfils: bytes in, plain data out, and back.

A codec is built by its spec's factory as ``Codec(options, context)`` (``context`` may be
``None`` outside a flow) and is then stateless: ``decode`` and ``encode`` may be called
from any number of messages. ``decode`` raises :class:`~splice.errors.CodecError` naming
the position (line:column, row, byte) of bad input; ``encode`` raises it naming the key
path of a value that cannot be written. Neither ever lets a library error escape.

Codecs whose format is a sequence of records (CSV rows, JSON lines, EDI transaction sets,
the items of an XML document) set ``supports_records`` and override ``iter_decode`` /
``write_records`` so that a file streams through in constant memory. ``write_records``
writes what ``encode`` writes for the list of records; ``iter_decode`` yields what
``decode`` gives as a list, except for a codec whose records sit inside a document that
they do not carry (XML: the root element, its name and attributes), which sets
``records_keep_document`` to False.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, ClassVar

from splice.errors import CodecError

__all__ = ["DEFAULT_MAX_BYTES", "Codec", "check_size"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Default ``max_bytes`` of the document codecs: 64 MiB."""


class Codec(ABC):
    """Turns bytes into plain Python data (dict, list, str, int, float, bool, None) and back."""

    name: ClassVar[str]
    content_type: ClassVar[str]
    supports_records: ClassVar[bool] = False
    """True when ``iter_decode`` / ``write_records`` stream record by record."""
    records_keep_document: ClassVar[bool] = True
    """False when the records of a document leave part of it out (the XML root element)."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """Parse a whole document; CodecError naming the position when it is not valid."""

    @abstractmethod
    def encode(self, value: Any) -> bytes:
        """Write a whole document; CodecError naming the key path of a value it cannot hold."""

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        """Yield the records of a stream (by default the whole document, once)."""
        yield self.decode(stream.read())

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        """Write records to a stream (by default as one document holding their list)."""
        out.write(self.encode(list(records)))


def check_size(data: bytes, max_bytes: int, what: str) -> None:
    """CodecError when a document is larger than its codec's ``max_bytes`` option."""
    if len(data) > max_bytes:
        raise CodecError(
            f"{what} document is {len(data)} bytes, more than max_bytes ({max_bytes})",
            position=f"byte {max_bytes}",
        )
