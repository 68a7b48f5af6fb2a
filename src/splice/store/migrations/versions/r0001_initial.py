"""The first state store: dead letters, idempotency keys, journal, aggregation state.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_ID64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _message_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("body_kind", sa.String(8), nullable=False),
        sa.Column("body", sa.LargeBinary),
        sa.Column("data", sa.JSON),
        sa.Column("lineage", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("targets", sa.JSON),
    ]


def upgrade() -> None:
    op.create_table(
        "splice_dead_letters",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("flow_version", sa.String(64)),
        sa.Column("step", sa.String(200), nullable=False),
        sa.Column("error_class", sa.String(200), nullable=False),
        sa.Column("error_code", sa.String(100), nullable=False),
        sa.Column("error_message", sa.Text, nullable=False),
        *_message_columns(),
        sa.Column("failures", sa.JSON, nullable=False),
        sa.Column("failure_count", sa.Integer, nullable=False),
        sa.Column("first_failure_at", _TIME, nullable=False),
        sa.Column("last_failure_at", _TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("replay_count", sa.Integer, nullable=False),
        sa.Column("last_replayed_at", _TIME),
        sa.Column("payload_edited_at", _TIME),
        sa.Column("purged_at", _TIME),
        sa.UniqueConstraint("flow", "message_id", name="uq_splice_dead_letters_flow_message"),
    )
    op.create_index(
        "ix_splice_dead_letters_flow_last_failure",
        "splice_dead_letters",
        ["flow", "last_failure_at"],
    )
    op.create_index(
        "ix_splice_dead_letters_last_failure", "splice_dead_letters", ["last_failure_at"]
    )
    op.create_table(
        "splice_idempotency_keys",
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("claimed_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_splice_idempotency_keys"),
    )
    op.create_index("ix_splice_idempotency_keys_expires", "splice_idempotency_keys", ["expires_at"])
    op.create_table(
        "splice_journal",
        sa.Column("id", _ID64, primary_key=True, autoincrement=True),
        sa.Column("flow", sa.String(200), nullable=False),
        *_message_columns(),
        sa.Column("appended_at", _TIME, nullable=False),
    )
    op.create_index("ix_splice_journal_flow_id", "splice_journal", ["flow", "id"])
    op.create_table(
        "splice_aggregation_messages",
        sa.Column("id", _ID64, primary_key=True, autoincrement=True),
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("group_key", sa.String(500), nullable=False),
        *_message_columns(),
        sa.Column("added_at", _TIME, nullable=False),
    )
    op.create_index(
        "ix_splice_aggregation_messages_group",
        "splice_aggregation_messages",
        ["flow", "group_key", "id"],
    )
    op.create_table(
        "splice_aggregation_completions",
        sa.Column("flow", sa.String(200), nullable=False),
        sa.Column("group_key", sa.String(500), nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False),
        sa.Column("completed_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("flow", "group_key", name="pk_splice_aggregation_completions"),
    )


def downgrade() -> None:
    op.drop_table("splice_aggregation_completions")
    op.drop_table("splice_aggregation_messages")
    op.drop_table("splice_journal")
    op.drop_table("splice_idempotency_keys")
    op.drop_table("splice_dead_letters")
