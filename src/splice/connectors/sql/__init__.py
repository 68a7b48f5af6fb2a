"""SQL databases (PostgreSQL, MySQL/MariaDB, SQLite): a watermark-polling and NOTIFY source,
and an insert / upsert / statement sink. See ``docs/guides/sql.md``."""

from __future__ import annotations

from splice.connectors.sql._database import json_value
from splice.connectors.sql._watermark import STATE_TABLE
from splice.connectors.sql.sink import SqlSink, SqlSinkConfig
from splice.connectors.sql.source import SqlSource, SqlSourceConfig

__all__ = ["STATE_TABLE", "SqlSink", "SqlSinkConfig", "SqlSource", "SqlSourceConfig", "json_value"]
