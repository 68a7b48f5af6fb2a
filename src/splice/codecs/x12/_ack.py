"""Functional acknowledgements (997) and implementation acknowledgements (999).

:func:`acknowledge` answers a decoded interchange with one acknowledgement transaction set
per functional group. Each transaction set is re-checked from the JSON: a wrong SE01 count
is rejected with code 4, an SE02 that does not match ST02 with code 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from splice.codecs.x12._envelope import same_number
from splice.codecs.x12._structure import flatten, load_definition, nest
from splice.codecs.x12._writer import interchanges_of

__all__ = ["acknowledge"]

Kind = Literal["997", "999"]
VERSION_999 = "005010X231A1"


def acknowledge(
    received: Mapping[str, Any],
    kind: Kind = "997",
    *,
    control_number: int = 1,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The acknowledgement interchange (JSON, as ``X12Codec.decode`` gives it)."""
    interchange = interchanges_of(received)[0]
    moment = now or datetime.now(UTC)
    groups = [
        _group(group, kind, control_number + index, index + 1, moment)
        for index, group in enumerate(interchange.get("groups", []))
    ]
    isa = _isa(interchange["ISA"], control_number, moment)
    iea = {"IEA01": str(len(groups)), "IEA02": isa["ISA13"]}
    ack = {"ISA": isa, "separators": dict(interchange["separators"]), "groups": groups, "IEA": iea}
    return {"interchange": ack}


def _isa(isa: Mapping[str, str], control_number: int, moment: datetime) -> dict[str, str]:
    answer = dict(isa)
    answer["ISA05"], answer["ISA06"] = isa["ISA07"], isa["ISA08"]
    answer["ISA07"], answer["ISA08"] = isa["ISA05"], isa["ISA06"]
    answer["ISA09"], answer["ISA10"] = moment.strftime("%y%m%d"), moment.strftime("%H%M")
    answer["ISA13"], answer["ISA14"] = f"{control_number:09d}", "0"
    return answer


def _group(
    group: Mapping[str, Any], kind: Kind, control_number: int, ordinal: int, moment: datetime
) -> dict[str, Any]:
    gs = group["GS"]
    version = VERSION_999 if kind == "999" else gs.get("GS08", "")
    ack_gs = {
        "GS01": "FA",
        "GS02": gs.get("GS03", ""),
        "GS03": gs.get("GS02", ""),
        "GS04": moment.strftime("%Y%m%d"),
        "GS05": moment.strftime("%H%M"),
        "GS06": str(control_number),
        "GS07": "X",
        "GS08": version,
    }
    transaction = _transaction(group, kind, f"{ordinal:04d}")
    return {
        "GS": ack_gs,
        "transactions": [transaction],
        "GE": {"GE01": "1", "GE02": str(control_number)},
    }


def _transaction(group: Mapping[str, Any], kind: Kind, reference: str) -> dict[str, Any]:
    gs = group["GS"]
    ak1 = [gs.get("GS01", ""), gs.get("GS06", "")] + ([gs.get("GS08", "")] if kind == "999" else [])
    segments: list[dict[str, Any]] = [_segment("AK1", ak1)]
    received = list(group.get("transactions", []))
    accepted = 0
    for transaction in received:
        response = _transaction_response(transaction, kind)
        accepted += response[-1]["elements"][0] == "A"
        segments.extend(response)
    status = "A" if accepted == len(received) else "P" if accepted else "R"
    counts = [str(len(received)), str(len(received)), str(accepted)]
    segments.append(_segment("AK9", [status, *counts]))
    st = {"ST01": kind, "ST02": reference} | ({"ST03": VERSION_999} if kind == "999" else {})
    se = {"SE01": str(len(segments) + 2), "SE02": reference}
    nested = nest(load_definition("splice.codecs.x12", kind, "loop"), segments, "loop")
    return {"ST": st, "segments": nested, "SE": se}


def _transaction_response(transaction: Mapping[str, Any], kind: Kind) -> list[dict[str, Any]]:
    st, se = transaction["ST"], transaction.get("SE") or {}
    ak2 = [st.get("ST01", ""), st.get("ST02", "")]
    if kind == "999" and st.get("ST03"):
        ak2.append(st["ST03"])
    code = _error_code(transaction, st, se)
    result = ["A"] if code is None else ["R", code]
    return [_segment("AK2", ak2), _segment("IK5" if kind == "999" else "AK5", result)]


def _error_code(
    transaction: Mapping[str, Any], st: Mapping[str, str], se: Mapping[str, str]
) -> str | None:
    if not se:
        return None
    counted = sum(1 for _ in flatten(transaction.get("segments", []))) + 2
    if not same_number(se.get("SE02", ""), st.get("ST02", "")):
        return "3"
    if not same_number(se.get("SE01", ""), str(counted)):
        return "4"
    return None


def _segment(segment_id: str, elements: list[str]) -> dict[str, Any]:
    return {"id": segment_id, "elements": elements}
