"""The ``on_error:`` policy of a flow, a sink or a project, and how failures are classified.

Policies are layered: the project's defaults (``splice.yaml``), then the flow's
``on_error``, then a sink's own ``sinks.<name>.on_error``. Each layer overrides only the
keys it writes, down to single fields of ``retry`` and ``circuit_breaker``::

    policy = project.merged(flow).merged(sink)

Every failure is **transient** (worth retrying) or **permanent** (dead-lettered at once);
:meth:`Classify.is_transient` answers, starting from :func:`splice.errors.is_transient`.
:class:`PoisonTracker` counts crashes per message so a poison message is quarantined
instead of crashing the flow forever.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from splice.errors import MessageError, SpliceError, is_transient
from splice.types import Duration

__all__ = [
    "TRANSIENT_STATUSES",
    "BreakerPolicy",
    "Classify",
    "OnError",
    "PoisonTracker",
    "RetryPolicy",
    "error_keys",
    "merge_layers",
]

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""HTTP statuses retried by default; every other 4xx/5xx status is permanent."""


class _Layer(BaseModel):
    """A policy layer: strict keys, and :meth:`merged` keeps only what ``over`` wrote."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def merged(self, over: Self | None) -> Self:
        """This layer with every key that ``over`` set explicitly taking precedence."""
        if over is None:
            return self
        changes: dict[str, object] = {}
        for name in over.model_fields_set:
            mine, theirs = getattr(self, name), getattr(over, name)
            both_layers = isinstance(mine, _Layer) and isinstance(theirs, _Layer)
            changes[name] = mine.merged(theirs) if both_layers else theirs
        return self.model_copy(update=changes)


class RetryPolicy(_Layer):
    """How a transient failure is retried."""

    attempts: int = Field(
        5, ge=1, description="Calls in all, the first one included; 1 = never retry."
    )
    backoff: Literal["exponential", "fixed"] = Field(
        "exponential", description="`exponential` doubles the wait each retry; `fixed` keeps it."
    )
    initial: Duration = Field(1.0, ge=0, description="Wait before the first retry.")
    max: Duration = Field(60.0, ge=0, description="Longest wait between two calls.")
    jitter: Literal["full", "none"] = Field(
        "full", description="`full` waits a random time in [0, wait]; `none` the wait itself."
    )
    max_elapsed: Duration | None = Field(
        600.0,
        gt=0,
        description="Give up once this long has passed since the first call (null: no limit). "
        "Time spent waiting for an open circuit breaker does not count.",
    )

    @field_validator("jitter", mode="before")
    @classmethod
    def _jitter_bool(cls, value: object) -> object:
        if isinstance(value, bool):
            return "full" if value else "none"
        return value


class BreakerPolicy(_Layer):
    """When the circuit breaker of an endpoint opens, and how it closes again."""

    failures: int = Field(5, ge=1, description="Transient failures within `window` that open it.")
    window: Duration = Field(60.0, gt=0, description="How far back failures are counted.")
    reset_after: Duration = Field(
        30.0, gt=0, description="How long it stays open before letting probe calls through."
    )
    half_open_probes: int = Field(
        1, ge=1, description="Calls let through while half-open; one success closes it."
    )


class Classify(_Layer):
    """Overrides of the built-in classification, by error code or HTTP status."""

    transient: list[str | int] = Field(
        default_factory=list, description="Error codes or HTTP statuses to retry."
    )
    permanent: list[str | int] = Field(
        default_factory=list, description="Error codes or HTTP statuses never to retry."
    )

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        both = _keys(self.transient) & _keys(self.permanent)
        if both:
            raise ValueError(f"listed as both transient and permanent: {', '.join(sorted(both))}")
        return self

    def merged(self, over: Classify | None) -> Classify:
        """The later layer wins for every code it names, in either list."""
        if over is None:
            return self
        later = _keys(over.transient) | _keys(over.permanent)
        transient = [c for c in self.transient if str(c) not in later] + over.transient
        permanent = [c for c in self.permanent if str(c) not in later] + over.permanent
        return Classify(transient=transient, permanent=permanent)

    def is_transient(self, error: BaseException) -> bool:
        """Whether ``error`` is worth retrying under this classification.

        A :class:`~splice.errors.MessageError` (bad bytes, schema, mapping) is never
        retried. Otherwise a code or status listed here decides; then an HTTP status in
        :data:`TRANSIENT_STATUSES`; then :func:`splice.errors.is_transient`.
        """
        if isinstance(error, MessageError):
            return False
        keys = error_keys(error)
        if keys & _keys(self.permanent):
            return False
        if keys & _keys(self.transient):
            return True
        status = getattr(error, "status", None)
        if isinstance(status, int) and 400 <= status < 600:
            return status in TRANSIENT_STATUSES
        return is_transient(error)


def error_keys(error: BaseException) -> set[str]:
    """The names ``classify`` matches an error by: its code and its HTTP status."""
    keys: set[str] = set()
    if isinstance(error, SpliceError):
        keys.add(error.code)
    status = getattr(error, "status", None)
    if isinstance(status, int):
        keys.add(str(status))
    return keys


def _keys(entries: list[str | int]) -> set[str]:
    return {str(entry) for entry in entries}


class OnError(_Layer):
    """The ``on_error:`` block of ``splice.yaml``, a flow, or one sink."""

    retry: RetryPolicy = Field(
        default_factory=RetryPolicy, description="Retries of transient failures."
    )
    timeout: Duration | None = Field(
        30.0, gt=0, description="Longest a sink call or a step may take (null: no limit)."
    )
    circuit_breaker: BreakerPolicy | None = Field(
        default_factory=BreakerPolicy,
        description="Breaker shared by every flow using the same endpoint (null: none).",
    )
    dead_letter: bool = Field(
        True, description="Commit a message that finally failed to the dead-letter queue."
    )
    classify: Classify = Field(
        default_factory=Classify, description="Which errors are transient or permanent."
    )
    quarantine_after: int = Field(
        5, ge=1, description="Crashes on the same message before it is quarantined."
    )


class PoisonTracker:
    """Counts crashes (unknown exceptions) per message id, to quarantine poison messages.

    A crash is an error that is neither a :class:`~splice.errors.SpliceError` nor transient:
    a bug that redelivery would hit again. Remembers at most ``capacity`` message ids.
    """

    def __init__(self, quarantine_after: int, *, capacity: int = 10_000) -> None:
        self.quarantine_after = quarantine_after
        self._capacity = capacity
        self._crashes: OrderedDict[str, int] = OrderedDict()

    @staticmethod
    def is_crash(error: BaseException) -> bool:
        return not isinstance(error, SpliceError) and not is_transient(error)

    def record(self, message_id: str, error: BaseException) -> bool:
        """Count ``error`` if it is a crash; return whether the message is now quarantined."""
        if self.is_crash(error):
            self._crashes[message_id] = self._crashes.pop(message_id, 0) + 1
            while len(self._crashes) > self._capacity:
                self._crashes.popitem(last=False)
        return self.should_quarantine(message_id)

    def should_quarantine(self, message_id: str) -> bool:
        return self._crashes.get(message_id, 0) >= self.quarantine_after

    def crashes(self, message_id: str) -> int:
        return self._crashes.get(message_id, 0)

    def forget(self, message_id: str) -> None:
        """Drop the count, once the message was delivered or quarantined."""
        self._crashes.pop(message_id, None)


def merge_layers(*layers: OnError | None) -> OnError:
    """``OnError()`` merged with each layer in turn (project, flow, sink); ``None`` skipped."""
    policy = OnError()
    for layer in layers:
        policy = policy.merged(layer)
    return policy
