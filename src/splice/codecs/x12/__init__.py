"""ASC X12 EDI: parse interchanges to JSON, generate them back, acknowledge them (997/999)."""

from splice.codecs.x12._ack import acknowledge
from splice.codecs.x12.codec import SPEC, X12Codec, X12Options

__all__ = ["SPEC", "X12Codec", "X12Options", "acknowledge"]
