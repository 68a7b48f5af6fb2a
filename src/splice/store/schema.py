"""The tables of the state store, in SQLAlchemy Core.

Every table is prefixed ``splice_`` so that the store can share a database with other
applications. Times are stored in UTC (:class:`UtcDateTime`). The migrations in
``splice/store/migrations`` create exactly these tables; ``tests/store`` checks they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Identity64",
    "UtcDateTime",
    "aggregation_completions",
    "aggregation_messages",
    "dead_letters",
    "idempotency_keys",
    "journal",
    "message_columns",
    "metadata",
]

metadata = MetaData()

Identity64 = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit auto-increment key (SQLite only auto-increments ``INTEGER PRIMARY KEY``)."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC on every database and read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: use an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def message_columns() -> list[Column[Any]]:
    """The columns that hold one serialised :class:`~splice.message.Message` (see codec)."""
    return [
        Column("message_id", String(64), nullable=False),
        Column("correlation_id", String(64), nullable=False),
        Column("content_type", String(255)),
        Column("headers", JSON, nullable=False),
        Column("body_kind", String(8), nullable=False),  # "bytes" | "text" | "data"
        Column("body", LargeBinary),  # encoded bodies, as given
        Column("data", JSON),  # decoded bodies, as JSON
        Column("lineage", JSON, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("targets", JSON),
    ]


dead_letters = Table(
    "splice_dead_letters",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("flow", String(200), nullable=False),
    Column("flow_version", String(64)),
    Column("step", String(200), nullable=False),
    Column("error_class", String(200), nullable=False),
    Column("error_code", String(100), nullable=False),
    Column("error_message", Text, nullable=False),
    *message_columns(),
    Column("failures", JSON, nullable=False),  # the attempt history, oldest first
    Column("failure_count", Integer, nullable=False),
    Column("first_failure_at", UtcDateTime, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending | replayed | purged
    Column("replay_count", Integer, nullable=False),
    Column("last_replayed_at", UtcDateTime),
    Column("payload_edited_at", UtcDateTime),
    Column("purged_at", UtcDateTime),
    UniqueConstraint("flow", "message_id", name="uq_splice_dead_letters_flow_message"),
    Index("ix_splice_dead_letters_flow_last_failure", "flow", "last_failure_at"),
    Index("ix_splice_dead_letters_last_failure", "last_failure_at"),
)

idempotency_keys = Table(
    "splice_idempotency_keys",
    metadata,
    Column("scope", String(200), nullable=False),
    Column("key", String(500), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("owner", String(64), nullable=True),
    Column("state", String(16), nullable=False, server_default="done"),
    PrimaryKeyConstraint("scope", "key", name="pk_splice_idempotency_keys"),
    Index("ix_splice_idempotency_keys_expires", "expires_at"),
)

journal = Table(
    "splice_journal",
    metadata,
    Column("id", Identity64, primary_key=True, autoincrement=True),
    Column("flow", String(200), nullable=False),
    *message_columns(),
    Column("appended_at", UtcDateTime, nullable=False),
    Column("worker", Integer, nullable=True),
    Index("ix_splice_journal_flow_id", "flow", "id"),
)

aggregation_messages = Table(
    "splice_aggregation_messages",
    metadata,
    Column("id", Identity64, primary_key=True, autoincrement=True),
    Column("flow", String(200), nullable=False),
    Column("group_key", String(500), nullable=False),
    *message_columns(),
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_splice_aggregation_messages_group", "flow", "group_key", "id"),
)

aggregation_completions = Table(
    "splice_aggregation_completions",
    metadata,
    Column("flow", String(200), nullable=False),
    Column("group_key", String(500), nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("completed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("flow", "group_key", name="pk_splice_aggregation_completions"),
)
