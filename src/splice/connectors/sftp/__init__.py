"""SFTP: the ``sftp`` source (a remote inbox) and the ``sftp`` sink (a remote outbox).

Both use asyncssh, imported only when a connection is opened. See ``docs/guides/sftp.md``.
"""
