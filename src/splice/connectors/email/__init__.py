"""Email: a sink that sends each message by SMTP. See ``docs/guides/email.md``."""

from __future__ import annotations

from splice.connectors.email.sink import EmailSink, EmailSinkConfig

__all__ = ["EmailSink", "EmailSinkConfig"]
