"""CONTRL syntax and service reports for received EDIFACT interchanges.

:func:`acknowledge` answers a decoded interchange with one CONTRL message: UCI for the
interchange, UCF per functional group and UCM per message. Action code 7 means
acknowledged; 4 means rejected, with syntax error 29 (UNT01 does not match the count) or
28 (UNT02 does not match UNH01), re-checked from the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from splice.codecs.edifact._writer import interchanges_of
from splice.codecs.x12._envelope import same_number
from splice.codecs.x12._structure import flatten, load_definition, nest

__all__ = ["acknowledge"]


def acknowledge(
    received: Mapping[str, Any], *, reference: str = "1", now: datetime | None = None
) -> dict[str, Any]:
    """The CONTRL interchange (JSON, as ``EdifactCodec.decode`` gives it)."""
    interchange = interchanges_of(received)[0]
    unb = interchange["UNB"]
    moment = now or datetime.now(UTC)
    body = _body(interchange)
    unh = {"UNH01": "1", "UNH02": ["CONTRL", "D", "3", "UN"]}
    message = {
        "UNH": unh,
        "segments": nest(
            load_definition("splice.codecs.edifact", "CONTRL", "group"), body, "group"
        ),
        "UNT": {"UNT01": str(len(body) + 2), "UNT02": "1"},
    }
    answer = {
        "separators": dict(interchange["separators"]),
        "UNB": {
            "UNB01": unb.get("UNB01", ["UNOA", "3"]),
            "UNB02": unb.get("UNB03", ""),
            "UNB03": unb.get("UNB02", ""),
            "UNB04": [moment.strftime("%y%m%d"), moment.strftime("%H%M")],
            "UNB05": reference,
        },
        "messages": [message],
        "UNZ": {"UNZ01": "1", "UNZ02": reference},
    }
    return {"interchange": answer}


def _body(interchange: Mapping[str, Any]) -> list[dict[str, Any]]:
    unb = interchange["UNB"]
    segments: list[dict[str, Any]] = []
    for group in interchange.get("groups", []):
        ung = group["UNG"]
        segments.append(
            _segment("UCF", [ung.get("UNG05", ""), ung.get("UNG02", ""), ung.get("UNG03", ""), "7"])
        )
        segments.extend(_ucm(message) for message in group.get("messages", []))
    segments.extend(_ucm(message) for message in interchange.get("messages", []))
    rejected = any(s["elements"][2] == "4" for s in segments if s["id"] == "UCM")
    uci = [
        unb.get("UNB05", ""),
        unb.get("UNB02", ""),
        unb.get("UNB03", ""),
        "4" if rejected else "7",
    ]
    return [_segment("UCI", uci), *segments]


def _ucm(message: Mapping[str, Any]) -> dict[str, Any]:
    unh, unt = message["UNH"], message.get("UNT") or {}
    error = _error(message, unh, unt)
    action = ["7"] if error is None else ["4", error]
    return _segment("UCM", [unh.get("UNH01", ""), unh.get("UNH02", ""), *action])


def _error(
    message: Mapping[str, Any], unh: Mapping[str, Any], unt: Mapping[str, Any]
) -> str | None:
    if not unt:
        return None
    counted = sum(1 for _ in flatten(message.get("segments", []))) + 2
    if not same_number(str(unt.get("UNT02", "")), str(unh.get("UNH01", ""))):
        return "28"
    if not same_number(str(unt.get("UNT01", "")), str(counted)):
        return "29"
    return None


def _segment(segment_id: str, elements: list[Any]) -> dict[str, Any]:
    return {"id": segment_id, "elements": elements}
