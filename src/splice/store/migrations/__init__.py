"""Alembic migrations of the state store, shipped inside the package.

:func:`splice.store.migrate.upgrade` runs them programmatically on :meth:`Store.open`; there
is no ``alembic.ini``. To change the schema: change :mod:`splice.store.schema`, add the next
``versions/rNNNN_*.py`` with ``down_revision`` set to the previous one, and run the store
tests (they check that the migrated database matches the tables).
"""
