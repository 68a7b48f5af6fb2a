"""What the SQL source and sink share: database URLs, identifiers, values and errors.

**Only bound parameters.** No value ever becomes SQL text: rows are read and written with
SQLAlchemy Core constructs whose values are bound parameters. Identifiers (table, column and
channel names) come only from configuration, are checked against
``^[A-Za-z_][A-Za-z0-9_]*$`` (``schema.table`` allowed for tables) and quoted by the
dialect, so they are case-sensitive as written.

Values read from a row become JSON-able data: ``Decimal`` becomes a float only when the
float is exactly the same number (``1.5``), otherwise its exact text (``"0.1"``,
``"12345678901234567890.01"``); dates, times and datetimes become ISO-8601 text; bytes
become base64 text; UUIDs their text; intervals their seconds.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator

from splice.components.spec import ComponentConfig
from splice.errors import NotConnected, PermanentError, SpliceError, TransientError

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "SqlConnectionConfig",
    "check_identifier",
    "check_table",
    "create_engine",
    "driver_url",
    "json_value",
    "translate",
]

log = logging.getLogger("splice.connectors.sql")

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
    "sqlite": "sqlite+aiosqlite",
}


def check_identifier(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"'{name}' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name


def check_table(name: str) -> str:
    """``table`` or ``schema.table``, each part a plain identifier."""
    parts = name.split(".")
    if len(parts) > 2:
        raise ValueError(f"'{name}' is not `table` or `schema.table`")
    for part in parts:
        check_identifier(part)
    return name


def split_table(name: str) -> tuple[str | None, str]:
    schema, _, table = name.rpartition(".")
    return schema or None, table


def reflect(sync_conn: Any, name: str | None) -> Table:
    """The table as the database describes it (unknown table: NoSuchTableError)."""
    from sqlalchemy import MetaData, Table

    schema, table = split_table(name or "")
    return Table(table, MetaData(), autoload_with=sync_conn, schema=schema)


def driver_url(url: str) -> str:
    """``postgresql://`` -> ``postgresql+asyncpg://``, ``mysql://`` -> aiomysql, ..."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("the url looks like postgresql://host/db, mysql://..., sqlite:///path")
    base = scheme.split("+")[0]
    if base not in _DRIVERS:
        raise ValueError(f"unsupported database '{base}' (postgresql, mysql, mariadb, sqlite)")
    return f"{_DRIVERS[base]}://{rest}"


class SqlConnectionConfig(ComponentConfig):
    url: str = Field(
        description="`postgresql://user@host/db`, `mysql://...` (MariaDB) or `sqlite:///path`."
    )
    password: SecretStr | None = Field(None, description="Password, as `${env:NAME}`.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        driver_url(value)
        return value


def create_engine(config: SqlConnectionConfig) -> AsyncEngine:
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    url = make_url(driver_url(config.url))
    if config.password is not None:
        url = url.set(password=config.password.get_secret_value())
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() != "sqlite":
        options["pool_recycle"] = 1800
    return create_async_engine(url, **options)


def json_value(value: Any) -> Any:
    """A value read from a row, as JSON-able data (see the module docstring)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        as_float = float(value)
        exact = value.is_finite() and decimal.Decimal(as_float) == value
        return as_float if exact else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def translate(exc: BaseException, what: str) -> SpliceError:
    """A database error as a splice error (``raise translate(exc, ...) from exc``)."""
    from sqlalchemy import exc as sa

    if isinstance(exc, SpliceError):
        return exc
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return NotConnected(f"{what}: the database connection was lost")
    if isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
        return TransientError(f"{what}: {_first_line(exc)}", code="sql")
    if isinstance(exc, sa.IntegrityError | sa.DataError | sa.ProgrammingError):
        return PermanentError(f"{what}: {_first_line(exc)}", code="sql")
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return TransientError(f"{what}: {type(exc).__name__}: {exc}", code="sql")
    if isinstance(exc, sa.DBAPIError):
        return _by_driver(exc, what)
    return PermanentError(f"{what}: {type(exc).__name__}: {exc}", code="sql")


_TRANSIENT_SQLSTATES = ("08", "40", "53", "57P", "55P03")
"""Connection lost, transaction rolled back (deadlock, serialization), out of resources,
operator intervention (shutdown), lock not available."""


def _by_driver(exc: Any, what: str) -> SpliceError:
    """asyncpg reports most errors as a plain DBAPIError: look at the driver's error."""
    original = getattr(exc, "orig", None)
    cause = getattr(original, "__cause__", None) or original
    sqlstate = str(getattr(cause, "sqlstate", "") or "")
    name = type(cause).__name__
    lost = "Connection" in name or "CannotConnect" in name
    if lost or sqlstate.startswith(_TRANSIENT_SQLSTATES):
        return TransientError(f"{what}: {_first_line(exc)}", code="sql")
    return PermanentError(f"{what}: {_first_line(exc)}", code="sql")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
