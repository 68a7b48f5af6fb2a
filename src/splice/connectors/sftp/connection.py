"""What the SFTP source and sink share: the connection config and one SFTP session."""

from __future__ import annotations

import logging
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, model_validator

from splice.components.context import Context
from splice.components.spec import ComponentConfig
from splice.errors import NotConnected
from splice.types import Duration

if TYPE_CHECKING:
    import asyncssh

__all__ = ["SftpConfig", "SftpSession", "is_connection_error"]

log = logging.getLogger(__name__)


class SftpConfig(ComponentConfig):
    host: str = Field(description="SSH server host name.")
    port: int = Field(22, ge=1, le=65535, description="SSH port.")
    username: str = Field(description="Login name.")
    password: SecretStr | None = Field(None, description="Password, by reference: `${env:NAME}`.")
    client_keys: list[str] = Field(
        default_factory=list,
        description="Private key files, relative to the project folder (public key login).",
    )
    known_hosts: str | None = Field(
        "~/.ssh/known_hosts",
        description=(
            "known_hosts file that the server's host key is checked against. `null` disables "
            "the check: insecure, for tests only."
        ),
    )
    path: str = Field(".", description="Remote folder, relative to the login folder or absolute.")
    connect_timeout: Duration = Field(30.0, gt=0, description="Longest wait to connect and log in.")

    @model_validator(mode="after")
    def _credentials(self) -> SftpConfig:
        if self.password is None and not self.client_keys:
            raise ValueError("give a password (by reference) or client_keys")
        return self


def is_connection_error(error: BaseException) -> bool:
    """True when the session is gone (the next use must reconnect)."""
    import asyncssh

    if isinstance(error, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
        return True
    if isinstance(error, asyncssh.SFTPError):
        return False
    return isinstance(error, OSError | TimeoutError | asyncssh.Error)


class SftpSession:
    """One SSH connection with one SFTP channel, opened on demand and dropped on error."""

    def __init__(self, config: SftpConfig, context: Context) -> None:
        self._config = config
        self._known_hosts = (
            str(context.resolve_path(Path(config.known_hosts).expanduser()))
            if config.known_hosts is not None
            else None
        )
        self._client_keys = [
            str(context.resolve_path(Path(key).expanduser())) for key in config.client_keys
        ]
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self.where = f"sftp://{config.username}@{config.host}:{config.port}"

    @property
    def connected(self) -> bool:
        return self._sftp is not None

    def remote(self, *parts: str) -> str:
        return posixpath.join(self._config.path, *parts)

    async def client(self) -> asyncssh.SFTPClient:
        """The SFTP client, connecting first when needed; NotConnected when that fails."""
        if self._sftp is not None:
            return self._sftp
        import asyncssh

        options: dict[str, Any] = {
            "port": self._config.port,
            "username": self._config.username,
            "known_hosts": self._known_hosts,
            "client_keys": self._client_keys or None,
            "config": None,
            "agent_path": None,
            "connect_timeout": self._config.connect_timeout,
        }
        if self._config.password is not None:
            options["password"] = self._config.password.get_secret_value()
        try:
            connection = await asyncssh.connect(self._config.host, **options)
        except (OSError, TimeoutError, asyncssh.Error) as error:
            raise NotConnected(f"cannot connect to {self.where}: {error}") from error
        try:
            self._sftp = await connection.start_sftp_client()
        except (OSError, asyncssh.Error) as error:
            connection.close()
            await connection.wait_closed()
            raise NotConnected(f"cannot start SFTP on {self.where}: {error}") from error
        self._connection = connection
        return self._sftp

    async def drop(self) -> None:
        """Close the session (safe to call twice); the next ``client()`` reconnects."""
        sftp, self._sftp = self._sftp, None
        connection, self._connection = self._connection, None
        if sftp is not None:
            sftp.exit()
        if connection is not None:
            connection.close()
            try:
                await connection.wait_closed()
            except Exception as error:  # pragma: no cover - closing a broken connection
                log.debug("closing %s: %s", self.where, error)
