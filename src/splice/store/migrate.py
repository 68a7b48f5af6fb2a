"""Run the store's Alembic migrations programmatically (``alembic upgrade head``).

Concurrent openers are serialised: SQLite by the ``BEGIN IMMEDIATE`` write lock of the
migration transaction, PostgreSQL by a transaction-level advisory lock. The second opener
finds the database at head and does nothing.
"""

from __future__ import annotations

import asyncio
import time

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateSchema

from splice.errors import NotConnected
from splice.store._engine import Database

__all__ = ["current_revision", "head_revision", "upgrade"]

_ADVISORY_LOCK = 0x5A1CE  # any constant shared by every splice process


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", "splice.store:migrations")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(database: Database) -> None:
    """Bring the database to the newest revision.

    Another process may be migrating the same SQLite file: its write lock can outlast the
    busy timeout on a loaded machine, so a locked database is waited for up to ten busy
    timeouts in all (50 s by default) rather than reported as unavailable at once.
    """
    deadline = time.monotonic() + 10 * database.target.busy_timeout
    while True:
        try:
            await _upgrade_once(database)
            return
        except NotConnected as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.2)


async def _upgrade_once(database: Database) -> None:
    schema = database.target.schema
    async with database.write("migrate") as conn:
        if conn.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            await conn.execute(lock, {"key": _ADVISORY_LOCK})
        if schema:
            await conn.execute(CreateSchema(schema, if_not_exists=True))
        await conn.run_sync(_upgrade)


async def current_revision(database: Database) -> str | None:
    async with database.read("read schema revision") as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
