"""A case's expectations against what its run gave: one :class:`Mismatch` per broken check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from splice.flowtest._checks import CHECKS
from splice.flowtest._harness import DeadLetter, Outcome
from splice.flowtest._models import DeadLetterExpect, Expect, MessageExpect
from splice.message import Message

__all__ = ["Mismatch", "check"]


@dataclass(frozen=True)
class Mismatch:
    """One check that did not hold: where (``sinks.outbox[0].xml``) and what differs."""

    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def check(expect: Expect, outcome: Outcome, project_dir: Path) -> list[Mismatch]:
    """Every way ``outcome`` differs from ``expect``."""
    found = _dead_letters(expect, outcome.dead_letters)
    for name, wanted in expect.sinks.items():
        found += _sink(f"sinks.{name}", wanted, outcome.delivered.get(name, []), project_dir)
    if expect.routed is not None and sorted(expect.routed) != sorted(outcome.routed):
        found.append(Mismatch("routed", f"expected {expect.routed}, got {outcome.routed}"))
    return found


def _dead_letters(expect: Expect, actual: list[DeadLetter]) -> list[Mismatch]:
    wanted = expect.dead_letters
    count = wanted if isinstance(wanted, int) else len(wanted)
    if count != len(actual):
        listing = "".join(f"\n  input {d.input}: {d.step} [{d.code}] {d.reason}" for d in actual)
        return [Mismatch("dead_letters", f"expected {count}, got {len(actual)}{listing}")]
    if isinstance(wanted, int):
        return []
    found: list[Mismatch] = []
    for index, (spec, letter) in enumerate(zip(wanted, actual, strict=True)):
        found += _dead_letter(f"dead_letters[{index}]", spec, letter)
    return found


def _dead_letter(where: str, spec: DeadLetterExpect, letter: DeadLetter) -> list[Mismatch]:
    found = []
    if spec.step is not None and spec.step != letter.step:
        found.append(Mismatch(f"{where}.step", f"expected {spec.step!r}, got {letter.step!r}"))
    if spec.code is not None and spec.code != letter.code:
        found.append(Mismatch(f"{where}.code", f"expected {spec.code!r}, got {letter.code!r}"))
    if spec.reason_contains is not None and spec.reason_contains not in letter.reason:
        text = f"expected a reason containing {spec.reason_contains!r}, got {letter.reason!r}"
        found.append(Mismatch(f"{where}.reason_contains", text))
    return found


def _sink(
    where: str, wanted: int | list[MessageExpect], actual: list[Message], project_dir: Path
) -> list[Mismatch]:
    count = wanted if isinstance(wanted, int) else len(wanted)
    if count != len(actual):
        return [Mismatch(where, f"expected {count} messages, got {len(actual)}")]
    if isinstance(wanted, int):
        return []
    found: list[Mismatch] = []
    for index, (spec, message) in enumerate(zip(wanted, actual, strict=True)):
        found += _message(f"{where}[{index}]", spec, message, project_dir)
    return found


def _message(
    where: str, spec: MessageExpect, message: Message, project_dir: Path
) -> list[Mismatch]:
    found = []
    for key in MessageExpect.model_fields:
        if key in spec.model_fields_set:
            problem = CHECKS[key](getattr(spec, key), message, project_dir)
            if problem is not None:
                found.append(Mismatch(f"{where}.{key.rstrip('_')}", problem))
    return found
