"""The schema registry: subjects with versions, guarded by compatibility modes.

A subject (``order``, ``crm.order``) holds numbered versions of one schema. Registering a
new version checks it against the subject's mode (default BACKWARD, as in Confluent Schema
Registry) and refuses it with :class:`IncompatibleSchema` listing each breaking change;
registering a schema identical to an existing version returns that version.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splice.errors import SpliceError
from splice.schemas._changes import Change, Compatibility, breaking
from splice.schemas._documents import changes, fingerprint, parse
from splice.store.schemas import SchemaVersions, StoredSchema

__all__ = [
    "IncompatibleSchema",
    "Registered",
    "SchemaNotFound",
    "SchemaRegistry",
    "parse_reference",
    "subject_for_file",
]

_SUBJECT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_SUFFIXES = {".schema.json": "json", ".json": "json", ".avsc": "avro", ".xsd": "xsd"}


class SchemaNotFound(SpliceError):
    code = "schema-not-found"


class IncompatibleSchema(SpliceError):
    """A new version breaks the subject's compatibility mode; ``changes`` lists how."""

    code = "schema-incompatible"

    def __init__(self, subject: str, mode: Compatibility, found: list[Change]) -> None:
        self.subject, self.mode, self.changes = subject, mode, found
        listed = "; ".join(str(c) for c in found)
        super().__init__(f"schema for '{subject}' is not {mode.value} compatible: {listed}")


@dataclass(frozen=True)
class Registered:
    schema: StoredSchema
    created: bool
    """False when an identical version already existed."""


def parse_reference(reference: str) -> tuple[str, int | None]:
    """``"order@2"`` → ``("order", 2)``; ``"order"`` or ``"order@latest"`` → ``("order", None)``."""
    subject, _, version = reference.partition("@")
    if not _SUBJECT.match(subject):
        raise SchemaNotFound(f"'{reference}' is not a schema reference (subject@version)")
    if version in ("", "latest"):
        return subject, None
    if not version.isdigit() or int(version) < 1:
        raise SchemaNotFound(f"'{reference}': a version is a number from 1, or 'latest'")
    return subject, int(version)


def subject_for_file(path: Path, root: Path) -> tuple[str, str] | None:
    """``schemas/crm/order.schema.json`` → ``("crm.order", "json")``; None if not a schema."""
    name = path.name
    for suffix, schema_type in _SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            parts = [*path.relative_to(root).parent.parts, name[: -len(suffix)]]
            return ".".join(parts), schema_type
    return None


class SchemaRegistry:
    """Subjects and versions kept in the state store (``store.schemas``)."""

    def __init__(
        self, versions: SchemaVersions, *, default_mode: Compatibility = Compatibility.BACKWARD
    ) -> None:
        self._versions = versions
        self.default_mode = default_mode

    async def mode(self, subject: str) -> Compatibility:
        explicit = await self._versions.mode(subject)
        return Compatibility(explicit) if explicit else self.default_mode

    async def set_mode(self, subject: str, mode: Compatibility | str) -> None:
        await self._versions.set_mode(_subject(subject), Compatibility(str(mode).upper()).value)

    async def check(self, subject: str, text: str, schema_type: str) -> builtins.list[Change]:
        """The changes that would make ``register`` refuse this schema (empty: it is fine)."""
        parsed = parse(text, schema_type)
        existing = await self._versions.versions(_subject(subject))
        return await self._breaking(subject, parsed, schema_type, existing)

    async def register(self, subject: str, text: str, schema_type: str) -> Registered:
        """Add a version (or find the identical one); IncompatibleSchema when it breaks."""
        parsed = parse(text, schema_type)
        existing = await self._versions.versions(_subject(subject))
        digest = fingerprint(parsed, schema_type)
        for stored in existing:
            if stored.fingerprint == digest and stored.schema_type == schema_type:
                return Registered(stored, created=False)
        found = await self._breaking(subject, parsed, schema_type, existing)
        if found:
            raise IncompatibleSchema(subject, await self.mode(subject), found)
        stored = await self._versions.add(subject, schema_type, text, digest)
        return Registered(stored, created=True)

    async def _breaking(
        self, subject: str, parsed: Any, schema_type: str, existing: builtins.list[StoredSchema]
    ) -> builtins.list[Change]:
        mode = await self.mode(subject)
        if mode is Compatibility.NONE or not existing:
            return []
        against = existing if mode.transitive else existing[-1:]
        found: builtins.list[Change] = []
        for old in reversed(against):
            if old.schema_type != schema_type:
                text = f"schema type changed from {old.schema_type} to {schema_type}"
                found.append(Change(text, True, True))
                continue
            for change in breaking(
                mode, changes(schema_type, parse(old.text, schema_type), parsed)
            ):
                if change not in found:
                    found.append(change)
        return found

    async def get(self, subject: str, version: int | str | None = "latest") -> StoredSchema:
        number = None if version in (None, "latest") else int(version)
        stored = await self._versions.get(_subject(subject), number)
        if stored is None:
            which = "no version" if number is None else f"no version {number}"
            raise SchemaNotFound(f"subject '{subject}' has {which}")
        return stored

    async def resolve(self, reference: str) -> StoredSchema:
        """``"order@2"``, ``"order@latest"`` or ``"order"``."""
        subject, version = parse_reference(reference)
        return await self.get(subject, version)

    async def list(self) -> builtins.list[tuple[str, int, str]]:
        """``(subject, latest version, type)`` of every subject."""
        return await self._versions.subjects()

    async def versions(self, subject: str) -> builtins.list[StoredSchema]:
        return await self._versions.versions(_subject(subject))

    async def diff(self, subject: str, old: int, new: int) -> builtins.list[Change]:
        """Every change from version ``old`` to version ``new``, each with what it breaks."""
        before, after = await self.get(subject, old), await self.get(subject, new)
        if before.schema_type != after.schema_type:
            text = f"schema type changed from {before.schema_type} to {after.schema_type}"
            return [Change(text, True, True)]
        kind = after.schema_type
        return changes(kind, parse(before.text, kind), parse(after.text, kind))

    async def seed(self, folder: Path) -> builtins.list[Registered]:
        """Register every schema file under ``folder`` (sorted by path); see subject_for_file."""
        results: builtins.list[Registered] = []
        for subject, schema_type, text in await asyncio.to_thread(_schema_files, folder):
            results.append(await self.register(subject, text, schema_type))
        return results


def _schema_files(folder: Path) -> builtins.list[tuple[str, str, str]]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        named = subject_for_file(path, folder)
        if named is not None:
            found.append((*named, path.read_text()))
    return found


def _subject(subject: str) -> str:
    if not _SUBJECT.match(subject):
        raise SchemaNotFound(f"'{subject}' is not a subject name (letters, digits, . _ -)")
    return subject
