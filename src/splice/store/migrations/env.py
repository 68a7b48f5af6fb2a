"""Alembic environment: runs on the connection that :mod:`splice.store.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from splice.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("splice migrations run through splice.store.migrate, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
