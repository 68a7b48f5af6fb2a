"""Scheduled messages: the ``timer`` source (an interval or a cron expression)."""
