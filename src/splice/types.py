"""Small value types shared by component configs."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["Duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from ``1.5``, ``"250ms"``, ``"30s"``, ``"5m"``, ``"2h"`` or ``"7d"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a text like '30s'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    raise ValueError(
        f"invalid duration {value!r}: use seconds or a text like 250ms, 30s, 5m, 2h, 7d"
    )


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in YAML as a number or with a unit (``ms``, ``s``, ``m``, ``h``, ``d``)."""
