"""Idempotency keys remember who claimed them and whether the delivery was confirmed.

A key is ``pending`` from the claim until the guarded delivery succeeded, then ``done``.
A redelivery of the *same* message (same id, e.g. resumed from the journal after a crash)
may take over a pending claim; any other message with that key is a duplicate.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("splice_idempotency_keys") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="done"))


def downgrade() -> None:
    with op.batch_alter_table("splice_idempotency_keys") as batch:
        batch.drop_column("state")
        batch.drop_column("owner")
