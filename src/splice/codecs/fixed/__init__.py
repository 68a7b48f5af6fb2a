"""Fixed-width records: layouts with record types, zoned and packed decimals, EBCDIC."""

from splice.codecs.fixed._layout import FieldSpec, Layout, RecordSpec, load_layout
from splice.codecs.fixed.codec import SPEC, FixedOptions, FixedWidthCodec

__all__ = [
    "SPEC",
    "FieldSpec",
    "FixedOptions",
    "FixedWidthCodec",
    "Layout",
    "RecordSpec",
    "load_layout",
]
