"""Journal entries remember which worker process appended them.

With ``splice run --workers N`` every worker appends to the same journal; on (re)start a
worker resumes only its own unfinished entries, so a restarted worker never runs again a
message that another, living worker has in flight. Entries without a worker (a single-process
run) or of a worker number no longer running are resumed by worker 0.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("splice_journal") as batch:
        batch.add_column(sa.Column("worker", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("splice_journal") as batch:
        batch.drop_column("worker")
