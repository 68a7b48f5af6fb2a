"""The schema registry: versions of subjects, and each subject's compatibility mode.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_ID64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "splice_schema_versions",
        sa.Column("id", _ID64, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("schema_type", sa.String(16), nullable=False),
        sa.Column("schema_text", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("registered_at", _TIME, nullable=False),
        sa.UniqueConstraint("subject", "version", name="uq_splice_schema_versions_subject_version"),
    )
    op.create_index(
        "ix_splice_schema_versions_fingerprint",
        "splice_schema_versions",
        ["subject", "fingerprint"],
    )
    op.create_table(
        "splice_schema_subjects",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("compatibility", sa.String(32), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("splice_schema_subjects")
    op.drop_index("ix_splice_schema_versions_fingerprint", "splice_schema_versions")
    op.drop_table("splice_schema_versions")
