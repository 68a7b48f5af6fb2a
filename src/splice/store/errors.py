"""Errors of the state store, and the one place where database errors are translated.

::

    SpliceError
    ├── ConnectorError
    │   └── NotConnected        the database is unreachable, restarting, or locked past
    │                           the busy timeout: the runtime pauses and retries
    └── StoreError(code)        anything else the store cannot do (a bug, a bad URL,
        │                       a value that cannot be stored)
        └── NotFound            no record with that id

Every translated error keeps the original as ``__cause__`` (``raise ... from exc``).
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from splice.errors import NotConnected, SpliceError

__all__ = ["NotFound", "StoreError", "translate"]

# SQLSTATE classes that mean "the server is not available right now": connection exception,
# insufficient resources (too many connections), operator intervention (shutdown, restart).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")

# SQLite reports both "busy" and "broken" as OperationalError; only these mean "try later".
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database is busy",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
)


class StoreError(SpliceError):
    """The state store failed for a reason that retrying the same call will not fix."""

    code = "store"


class NotFound(StoreError):
    """No record with the given id."""

    code = "store-not-found"


def translate(error: BaseException, *, operation: str) -> SpliceError:
    """The splice error for ``error`` raised by the database while doing ``operation``."""
    if _is_unavailable(error):
        return NotConnected(f"state store unavailable during {operation}: {_describe(error)}")
    return StoreError(f"state store failed during {operation}: {_describe(error)}")


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, OSError | TimeoutError):
        return True  # connection refused / reset / timed out before a DB-API error exists
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    if isinstance(error.__cause__, OSError | TimeoutError):
        return True
    text = str(error.orig).lower()
    return isinstance(error, sa_exc.OperationalError) and text.startswith(_SQLITE_UNAVAILABLE)


def _describe(error: BaseException) -> str:
    if isinstance(error, sa_exc.DBAPIError):
        return f"{type(error.orig).__name__}: {error.orig}"
    return f"{type(error).__name__}: {error}"
