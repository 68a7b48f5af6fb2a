"""UN/EDIFACT: parse interchanges to JSON, generate them back, acknowledge them (CONTRL)."""

from splice.codecs.edifact._contrl import acknowledge
from splice.codecs.edifact.codec import SPEC, EdifactCodec, EdifactOptions

__all__ = ["SPEC", "EdifactCodec", "EdifactOptions", "acknowledge"]
