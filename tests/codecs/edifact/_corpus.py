"""Which EDIFACT corpus files are malformed, why, and how they fail (test data)."""

from __future__ import annotations

import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpora" / "edifact"
EDINET = "edinet/test/indice.Edi.Tests/Samples/"
PHP = "php_edifact/tests/files/"
PYDIFACT = "pydifact/tests/data/"
RELAXED = {"check_envelope": False}
LATIN1 = {"encoding": "latin-1", "check_envelope": False}  # and UNZ02 != UNB05

# file -> (error expected with default options, options under which it still round-trips)
MALFORMED: dict[str, tuple[str, dict[str, object] | None]] = {
    EDINET + "Apperak edi_out_issue235.edi": (r"segment 2 \(UNB\): UNB before UNZ", None),
    EDINET + "edifact.01.edi": (
        r"segment 32 \(UNT\): UNT01 says 158 segments, counted 31",
        RELAXED,
    ),
    EDINET + "edifact.01.multi-message.edi": (r"segment 32 \(UNT\): UNT01 says 158", RELAXED),
    EDINET + "edifact.D01B.IFCSUM.EDI": (r"segment 28 \(UNT\): UNT01 says 787", RELAXED),
    # line feeds instead of the apostrophe, and no UNA to announce them
    EDINET + "edifact.D01B.IFCSUM.NewLines.EDI": (
        r"segment 1 \(UNB\): segment not terminated",
        None,
    ),
    EDINET + "edifact.D95B.CUSCAR.EDI": (
        r"segment 53 \(UNT\): UNT01 says 53 segments, counted 52",
        RELAXED,
    ),
    EDINET + "edifact.D95B.Issue137.EDI": (r"segment 1 \(UNH\): UNH outside an interchange", None),
    EDINET + "edifact.Issue121.ElementList.Conditions.edi": (
        r"segment 8 \(UNT\): UNT01 says 3",
        RELAXED,
    ),
    EDINET + "edifact.Issue121.ElementList.edi": (r"segment 6 \(UNT\): UNT01 says 3", RELAXED),
    EDINET + "edifact.Issue149.SegmentGroups.edi": (r"segment 11 \(UNT\): UNT01 says 91", RELAXED),
    EDINET + "edifact.Issue170.ElementList.edi": (r"segment 6 \(UNT\): UNT01 says 3", RELAXED),
    EDINET + "edifact.Issue174.edi": (r"segment 15 \(UNT\): UNT01 says 3", RELAXED),
    EDINET + "edifact.Issue188.edi": (r"segment 4 \(UNT\): UNT01 says 1", RELAXED),
    EDINET + "edifact.Issue196.edi": (r"segment 14 \(UNT\): UNT01 says 331", RELAXED),
    EDINET + "edifact.Issue203.edi": (r"segment 103 \(UNT\): UNT01 says 13", RELAXED),
    EDINET + "edifact.Issue98.edi": (r"segment 12 \(UNT\): UNT02 '' does not match UNH01", RELAXED),
    EDINET + "edifact.ORDRSP-formatted.edi": (r"segment 31 \(UNT\): UNT01 says 17", RELAXED),
    EDINET + "edifact.ORDRSP.edi": (r"segment 32 \(UNT\): UNT01 says 17", RELAXED),
    EDINET + "edifact.Paiement.Issue139.EDI": (r"segment 12 \(UNT\): UNT01 says 000100", RELAXED),
    PHP + "example_multiline.edi": (
        r"segment 8 \(UNT\): UNT01 says 10 segments, counted 7",
        RELAXED,
    ),
    PHP + "example_release_character.edi": (r"segment 24 \(UNT\): UNT01 says 14", RELAXED),
    PYDIFACT + "hl7.lab": (r"segment 2 \(H`N\): bad segment tag", None),  # not EDIFACT
    PYDIFACT + "huge_file2.edi": (r"segment 109620 \(UNT\): UNT01 says 16", RELAXED),  # no UNZ
    PYDIFACT + "messages/v3/aperak.edi": (r"segment 8 \(UNT\): UNT01 says 8", RELAXED),
    PYDIFACT + "messages/v3/aperak_rejected.edi": (r"segment 8 \(UNT\): UNT01 says 8", RELAXED),
    PYDIFACT + "messages/v4/aperak.edi": (r"segment 8 \(UNT\): UNT01 says 8", RELAXED),
    PYDIFACT + "messages/v4/aperak_rejected.edi": (r"segment 8 \(UNT\): UNT01 says 8", RELAXED),
    PYDIFACT + "order.edi": (r"segment 17 \(UNT\): the stream ends before UNZ", RELAXED),
    PYDIFACT + "order2.edi": (r"segment 12 \(UNT\): the stream ends before UNZ", RELAXED),
    # ISO 8859-1 text (umlauts) in a file that is not UTF-8
    PYDIFACT + "patient1.edi": (r"not valid text in the configured encoding", LATIN1),
    PYDIFACT + "patient2.edi": (r"not valid text in the configured encoding", LATIN1),
    PYDIFACT + "patient3.edi": (r"segment 53 \(FTX\): segment not terminated", None),  # truncated
    PYDIFACT + "sage_coala.ped": (r"segment 1 \(DOC\): segment outside a message", None),
    PYDIFACT + "wikipedia_de.edi": (
        r"segment 11 \(UNZ\): UNZ02 '1234567' does not match UNB05",
        RELAXED,
    ),
}

# Valid, but escape characters that need no escaping ('?A', '?*' with a blank reserved
# character): generation writes the canonical form, so the round trip is checked on JSON.
NON_CANONICAL_ESCAPES = {
    EDINET + "edifact.Issue157.Wikipedia.edi",
    PHP + "example_order_error.edi",
    PYDIFACT + "patient1.edi",  # '?.'
    PYDIFACT + "patient2.edi",
}


def samples() -> list[str]:
    found = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".json", ".xml")]
    return sorted(str(p.relative_to(CORPUS)) for p in found if p.name != "LICENSE")


def without_line_breaks(data: bytes, encoding: str = "utf-8") -> str:
    """Line breaks after segment terminators and a BOM are not part of the interchange."""
    return re.sub(r"'[\r\n\t ]+", "'", data.decode(encoding).lstrip("\ufeff")).rstrip()
