"""The schema registry's tables and their access: subjects, their versions and modes.

``splice_schema_versions`` holds every registered version of every subject (``version``
counts from 1 per subject; a version is never changed or deleted). ``splice_schema_subjects``
holds a subject's compatibility mode when it was set explicitly. The rules (compatibility,
identical schemas) live in :mod:`splice.schemas`; this module only stores and reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from splice.store._engine import Database
from splice.store._upsert import insert_or_take_over
from splice.store.schema import Identity64, UtcDateTime, metadata

__all__ = ["SchemaVersions", "StoredSchema", "schema_subjects", "schema_versions"]

schema_versions = Table(
    "splice_schema_versions",
    metadata,
    Column("id", Identity64, primary_key=True, autoincrement=True),
    Column("subject", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("schema_type", String(16), nullable=False),  # json | avro | xsd
    Column("schema_text", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha-256 of the normalised text
    Column("registered_at", UtcDateTime, nullable=False),
    UniqueConstraint("subject", "version", name="uq_splice_schema_versions_subject_version"),
    Index("ix_splice_schema_versions_fingerprint", "subject", "fingerprint"),
)

schema_subjects = Table(
    "splice_schema_subjects",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("compatibility", String(32), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class StoredSchema:
    """One registered version of a subject."""

    subject: str
    version: int
    schema_type: str
    text: str
    fingerprint: str
    registered_at: datetime


def _stored(row: Any) -> StoredSchema:
    m = row._mapping
    return StoredSchema(
        str(m["subject"]),
        int(m["version"]),
        str(m["schema_type"]),
        str(m["schema_text"]),
        str(m["fingerprint"]),
        m["registered_at"],
    )


_t = schema_versions
_COLUMNS = (_t.c.subject, _t.c.version, _t.c.schema_type, _t.c.schema_text, _t.c.fingerprint)
_SELECT = select(*_COLUMNS, _t.c.registered_at)


class SchemaVersions:
    """Versions of subjects in the state store (``store.schemas``)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self, subject: str, schema_type: str, text: str, fingerprint: str
    ) -> StoredSchema:
        """Store the next version of ``subject`` (version numbers are taken atomically)."""
        now = datetime.now(UTC)
        async with self._db.write("schema register") as conn:
            version = await _next_version(conn, subject)
            values = {
                "subject": subject,
                "version": version,
                "schema_type": schema_type,
                "schema_text": text,
                "fingerprint": fingerprint,
                "registered_at": now,
            }
            await conn.execute(_t.insert().values(values))
        return StoredSchema(subject, version, schema_type, text, fingerprint, now)

    async def versions(self, subject: str) -> list[StoredSchema]:
        """Every version of ``subject``, oldest first (empty for an unknown subject)."""
        query = _SELECT.where(_t.c.subject == subject).order_by(_t.c.version)
        async with self._db.single("schema versions") as conn:
            return [_stored(row) for row in await conn.execute(query)]

    async def get(self, subject: str, version: int | None = None) -> StoredSchema | None:
        """One version, or the latest when ``version`` is None; None when there is none."""
        query = _SELECT.where(_t.c.subject == subject)
        if version is None:
            query = query.order_by(_t.c.version.desc()).limit(1)
        else:
            query = query.where(_t.c.version == version)
        async with self._db.single("schema get") as conn:
            row = (await conn.execute(query)).first()
        return _stored(row) if row is not None else None

    async def subjects(self) -> list[tuple[str, int, str]]:
        """``(subject, latest version, type of the latest)`` of every subject, by name."""
        latest = (
            select(_t.c.subject, func.max(_t.c.version).label("version"))
            .group_by(_t.c.subject)
            .subquery()
        )
        query = (
            select(_t.c.subject, _t.c.version, _t.c.schema_type)
            .join(latest, (latest.c.subject == _t.c.subject) & (latest.c.version == _t.c.version))
            .order_by(_t.c.subject)
        )
        async with self._db.single("schema subjects") as conn:
            return [(str(s), int(v), str(t)) for s, v, t in await conn.execute(query)]

    async def mode(self, subject: str) -> str | None:
        """The subject's explicit compatibility mode, or None."""
        query = select(schema_subjects.c.compatibility).where(schema_subjects.c.subject == subject)
        async with self._db.single("schema mode") as conn:
            value = (await conn.execute(query)).scalar()
        return str(value) if value is not None else None

    async def set_mode(self, subject: str, mode: str) -> None:
        values = {"subject": subject, "compatibility": mode, "updated_at": datetime.now(UTC)}
        async with self._db.single("schema set mode") as conn:
            await conn.execute(
                insert_or_take_over(conn, schema_subjects, values, ["subject"], when=None)
            )


async def _next_version(conn: AsyncConnection, subject: str) -> int:
    query = select(func.max(_t.c.version)).where(_t.c.subject == subject)
    current = (await conn.execute(query)).scalar()
    return int(current or 0) + 1
