"""Which X12 corpus files are malformed, why, and how they fail (test data)."""

from __future__ import annotations

import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpora" / "x12"
EDINET = "edinet/test/indice.Edi.Tests/Samples/"
IMSWEB = "imsweb_x12parser/src/test/resources/"
LENIENT = {"lenient_isa": True}
RELAXED = {"lenient_isa": True, "check_envelope": False}
UNPADDED_ISA = r"segment 1 \(ISA\): ISA\d\d must be \d+ characters, found \d+"

# file -> (error expected with default options, options under which it still round-trips)
MALFORMED: dict[str, tuple[str, dict[str, bool] | None]] = {
    EDINET + "204-MGCTLYST-SAMPLE.EDI": (
        r"segment 40 \(SE\): SE01 says 41 segments, counted 38",
        RELAXED,
    ),
    EDINET + "x12.214.edi": (UNPADDED_ISA, None),  # a line break inside ISA08
    EDINET + "x12.810.mandatory-conditions.edi": (UNPADDED_ISA, RELAXED),  # and SE01 50 for 6
    EDINET + "x12.810a.edi": (UNPADDED_ISA, LENIENT),
    EDINET + "x12.810b.edi": (UNPADDED_ISA, LENIENT),
    EDINET + "x12.810c.edi": (UNPADDED_ISA, LENIENT),
    EDINET + "x12.810d.edi": (UNPADDED_ISA, LENIENT),
    EDINET + "x12.832.edi": (UNPADDED_ISA, RELAXED),  # and SE01 17 for 12
    EDINET + "x12.850.edi": (
        r"segment 15 \(IEA\): IEA02 '000000001' does not match ISA13",
        RELAXED,
    ),
    # ISA16 is missing: '~' is read as the component separator and LF as the terminator
    EDINET + "x12.850.issue135.edi": (r"segment 2 \(GS\): GS08 '004010~' holds a separator", None),
    EDINET + "x12.850a.edi": (UNPADDED_ISA, RELAXED),  # and IEA02 does not match ISA13
    EDINET + "x12.Issue101.edi": (UNPADDED_ISA, RELAXED),  # and SE01 50 for 5
    EDINET + "x12.Issue172.edi": (UNPADDED_ISA, RELAXED),  # and SE01 50 for 10
    EDINET + "x12.Issue91.edi": (UNPADDED_ISA, RELAXED),  # and SE01 50 for 7
    IMSWEB + "277_5010/x12_277_x212.txt": (r"segment 111 \(IEA\): IEA02 '842928883'", RELAXED),
    IMSWEB + "837_5010/x12_999_accepted.txt": (r"segment 10 \(IEA\): IEA02 '000000001'", RELAXED),
    IMSWEB + "837_5010/x12_bad_first_line.txt": (
        r"segment 1 \(ISA\): ISA02 must be 10 characters, found 9",
        RELAXED,
    ),
    IMSWEB + "837_5010/x12_bad_segment_identifier.txt": (
        r"segment 6 \(\?\): bad segment identifier ''",
        None,
    ),
    IMSWEB + "837_5010/x12_no_isa_line.txt": (r"segment 1 \(GS\): expected an ISA segment", None),
    IMSWEB + "x270_271/x270.txt": (
        r"segment 16 \(SE\): SE01 says 15 segments, counted 14",
        RELAXED,
    ),
    IMSWEB + "x270_271/x271.txt": (
        r"segment 20 \(SE\): SE01 says 22 segments, counted 18",
        RELAXED,
    ),
    "node_x12/test/test-data/271.edi": (r"segment 40 \(SE\): the stream ends before GE", None),
}

# The imsweb 837 samples all carry SE*25 whatever their length (their parser does not count).
_SE25 = {
    "x12_ambiguous_loop": 35,
    "x12_bad_valid_code": 36,
    "x12_complex": 149,
    "x12_loop_errors1_exceeds_max_1_parent": 33,
    "x12_loop_errors2_exceeds_max_repeats_multiple_parents": 52,
    "x12_loop_errors3_missing_loops": 21,
    "x12_many_claims": 11488,
    "x12_missing_elements": 36,
    "x12_missing_required_loop_in_one_repeat": 42,
    "x12_missing_required_loops_mult_repeats": 61,
    "x12_multiple_gs": 36,
    "x12_multiple_isa": 36,
    "x12_multiple_st": 36,
    "x12_multiple_transactions": 36,
    "x12_no_errors": 43,
    "x12_segment_errors": 25,
    "x12_segments_out_of_order": 36,
    "x12_valid": 36,
    "x12_valid_different_separators": 36,
    "x12_writer_test": 33,
    "x223-test": 50,
}
for _name, _ordinal in _SE25.items():
    MALFORMED[f"{IMSWEB}837_5010/{_name}.txt"] = (
        rf"segment {_ordinal} \(SE\): SE01 says 25 segments",
        RELAXED,
    )


def samples() -> list[str]:
    """Every X12 sample in the corpus (relative paths), licences and JSON excluded."""
    found = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".json", ".md")]
    return sorted(str(p.relative_to(CORPUS)) for p in found if not p.name.startswith("LICENSE"))


def without_line_breaks(data: bytes) -> str:
    """Whitespace after terminators and a BOM are not part of the interchange."""
    return re.sub(r"\s+", "", data.decode("utf-8-sig"))
