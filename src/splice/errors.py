"""The one error tree of splice.

Every error splice raises derives from :class:`SpliceError` and carries a stable ``code``
(documented in ``docs/guides/errors.md``). Library errors are translated at the boundary
with ``raise ... from exc``; nothing else escapes to the user as a traceback.

::

    SpliceError(code)                      root; every error has a stable code
    ├── ConfigError(path, line, column)    a project or flow file is wrong
    ├── ConnectorError
    │   ├── NotConnected                   the runtime reconnects with backoff
    │   ├── TransientError(retry_after)    retried under the flow's policy
    │   └── PermanentError                 straight to the dead-letter queue
    └── MessageError(message_id)           this message is wrong; it is never retried
        ├── CodecError(position)           bytes that are not what they claim
        ├── MappingError(expression, pos)  a mapping failed on this message
        └── ContractViolation(errors)      the message breaks its schema

Whether an error is retried is answered by :func:`is_transient`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CodecError",
    "ConfigError",
    "ConfigProblem",
    "ConnectorError",
    "ContractViolation",
    "MappingError",
    "MessageError",
    "NotConnected",
    "PermanentError",
    "SpliceError",
    "TransientError",
    "is_transient",
]


class SpliceError(Exception):
    """Root of every splice error. ``code`` is stable and documented."""

    code = "splice"
    component: str | None = None
    """Where in its flow the error happened (``steps[2].map``, ``sinks.erp``), once known."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a project file, with the place it was found."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ConfigError(SpliceError):
    """A project or flow file is wrong. Holds every problem found, each with its place."""

    code = "config"

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def at(cls, file: str, line: int, column: int, message: str) -> ConfigError:
        return cls([ConfigProblem(file, line, column, message)])


class ConnectorError(SpliceError):
    """A connector could not do its work."""

    code = "connector"


class NotConnected(ConnectorError):
    """The connection is down; the runtime reconnects with backoff."""

    code = "not-connected"


class TransientError(ConnectorError):
    """Worth retrying: timeouts, connection errors, HTTP 429/502/503/504, broker unavailable."""

    code = "transient"

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying cannot help (HTTP 4xx other than 408/429, refused by the receiver)."""

    code = "permanent"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class MessageError(SpliceError):
    """This message is wrong: never retried, dead-lettered with the reason."""

    code = "message"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field
        self.message_id: str | None = None
        self.step: str | None = None


class CodecError(MessageError):
    """Bytes that are not what they claim. ``position`` says where (line:column, row, byte)."""

    code = "codec"

    def __init__(
        self, message: str, *, position: str | None = None, code: str | None = None
    ) -> None:
        text = f"{message} (at {position})" if position else message
        super().__init__(text, code=code)
        self.position = position


class MappingError(MessageError):
    """A mapping expression failed. ``code`` is the JSONata error code (e.g. ``T2001``)."""

    code = "mapping"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        expression: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.expression = expression
        self.position = position


class ContractViolation(MessageError):
    """The message breaks its schema. ``errors`` lists every violation with its location."""

    code = "contract"

    def __init__(self, errors: list[tuple[str, str]], *, schema: str | None = None) -> None:
        self.errors = errors
        self.schema = schema
        first_field = errors[0][0] if errors else None
        text = "; ".join(f"{where or '/'}: {what}" for where, what in errors)
        super().__init__(text or "message violates its schema", field=first_field)


def is_transient(error: BaseException) -> bool:
    """True when retrying may help. Unknown exceptions count as permanent: they are bugs."""
    if isinstance(error, TransientError | NotConnected):
        return True
    return isinstance(error, TimeoutError | ConnectionError)
