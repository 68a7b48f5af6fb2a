"""Secrets only by reference, and masked everywhere.

A project file never holds a secret: it holds a reference that is resolved when the project
is loaded::

    password: ${env:ERP_PASSWORD}          # an environment variable
    token: ${file:secrets/partner.token}   # a file, relative to the project folder

``$${`` writes a literal ``${``. Every resolved value is registered with a process-wide
masker; :func:`mask` replaces each registered value with ``***`` in any text (log lines,
error messages, dead letters). :class:`MaskingFilter` does it for :mod:`logging`.

A literal value under a key that names a secret (``password``, ``token``, ``api_key``, ...,
also as a suffix like ``db_password``) is refused: :func:`is_secret_key` says which keys.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "SECRET_KEYS",
    "MaskingFilter",
    "SecretError",
    "deferred",
    "deferring",
    "has_reference",
    "is_secret_key",
    "mask",
    "register",
    "resolve",
]

SECRET_KEYS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "client_secret",
    "authorization",
)
MASK = "***"
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_lock = threading.Lock()
_values: set[str] = set()
_ordered: tuple[str, ...] = ()


class SecretError(ValueError):
    """A reference cannot be resolved. The message names the reference, never a value."""


_deferred: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "splice_deferred_references", default=None
)


@contextlib.contextmanager
def deferred() -> Iterator[list[str]]:
    """Within this block a reference that cannot be resolved stays as written.

    ``splice test`` loads a project this way: its sources and sinks are replaced, so their
    credentials need not exist on a developer's machine or in CI. The yielded list collects
    every reference left unresolved (``${env:AMQP_URL}``); a syntax error is still an error.
    """
    unresolved: list[str] = []
    token = _deferred.set(unresolved)
    try:
        yield unresolved
    finally:
        _deferred.reset(token)


def is_secret_key(key: str) -> bool:
    """True for ``password``, ``DB_Password``, ``X-Api-Key``...: keys that name a secret."""
    lowered = key.lower().replace("-", "_")
    return any(lowered == name or lowered.endswith("_" + name) for name in SECRET_KEYS)


def has_reference(text: str) -> bool:
    """True when ``text`` holds at least one ``${...}`` reference (not counting ``$${``)."""
    return any(match.group(0) != "$${" for match in _REFERENCE.finditer(text))


def resolve(text: str, project_dir: Path, key: str = "") -> str:
    """``text`` with every reference replaced by its value (each value registered for masking).

    ``key`` is the setting the text is written under. A value under a key that names a
    secret is always masked; elsewhere a value too plain to be a secret — a number, or
    shorter than 4 characters, like ``PORT=1`` — is not, or every ``1`` in the logs would
    read ``***``.
    """
    always = bool(key) and is_secret_key(key)

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if match.group(1) is None:
            raise SecretError("unterminated reference '${': write '$${' for a literal '${'")
        try:
            value = _lookup(match.group(1).strip(), project_dir)
        except SecretError:
            unresolved = _deferred.get()
            if unresolved is None or not _is_lookup_miss(match.group(1).strip()):
                raise
            unresolved.append(match.group(0))
            return match.group(0)
        if always or not _plain(value):
            register(value)
        return value

    return _REFERENCE.sub(replace, text)


def _plain(value: str) -> bool:
    """A number or a very short value: not worth masking outside a secret-named key."""
    return len(value) < 4 or value.isdigit()


def deferring() -> bool:
    """True inside :func:`deferred`: unresolvable references are being kept as written."""
    return _deferred.get() is not None


def _is_lookup_miss(reference: str) -> bool:
    """A well-formed reference whose value is absent (not a misspelt one)."""
    provider, _, argument = reference.partition(":")
    return (provider == "env" and _NAME.match(argument) is not None) or (
        provider == "file" and bool(argument)
    )


def _lookup(reference: str, project_dir: Path) -> str:
    provider, _, argument = reference.partition(":")
    if provider == "env":
        if not _NAME.match(argument):
            raise SecretError(f"invalid environment variable name in '${{env:{argument}}}'")
        if argument not in os.environ:
            raise SecretError(f"environment variable {argument} is not set")
        return os.environ[argument]
    if provider == "file":
        return _read_file(argument, project_dir)
    raise SecretError(f"unknown reference '${{{reference}}}': use ${{env:NAME}} or ${{file:PATH}}")


def _read_file(argument: str, project_dir: Path) -> str:
    if not argument:
        raise SecretError("empty path in '${file:}'")
    path = Path(argument)
    if not path.is_absolute():
        path = project_dir / path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretError(f"secret file not found: {argument}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"secret file {argument} cannot be read: {type(exc).__name__}") from None
    return text.removesuffix("\n").removesuffix("\r")


def register(value: str) -> None:
    """Mask ``value`` from now on, in every text that goes through :func:`mask`."""
    global _ordered
    if not value:
        return
    with _lock:
        if value not in _values:
            _values.add(value)
            _ordered = tuple(sorted(_values, key=len, reverse=True))


def mask(text: str) -> str:
    """``text`` with every registered secret value replaced by ``***``."""
    for value in _ordered:
        if value in text:
            text = text.replace(value, MASK)
    return text


class MaskingFilter(logging.Filter):
    """A logging filter that masks secret values in each record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _ordered:
            message = record.getMessage()
            masked = mask(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True
