"""Project lookup tables, read by ``$lookup(table, key)`` in mappings.

``splice.yaml`` names them under ``lookups:`` (name -> file, relative to the project folder):

- a ``.csv`` file has a header row; the first column is the key. A two-column table gives
  the second column's value directly (``$lookup("countries", "DE")`` -> ``"Germany"``);
  a wider one gives the whole row as an object keyed by the header. Values are text.
- a ``.yaml`` / ``.yml`` file is one mapping from key to any value.

Keys are text: ``$lookup("codes", 49)`` looks up ``"49"``. A missing key is undefined, not
an error; an unknown table is a :class:`~splice.errors.MappingError`.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from splice.errors import ConfigError, MappingError

__all__ = ["LookupTables", "lookup_key"]

Table = dict[str, Any]


class LookupTables:
    """Named lookup tables. Compare by identity: load them once per engine."""

    def __init__(self, tables: Mapping[str, Table] | None = None) -> None:
        self._tables = dict(tables or {})

    @classmethod
    def load(cls, project_dir: Path, files: Mapping[str, str]) -> LookupTables:
        """Read every table; a bad one is a ConfigError naming ``file:line``."""
        tables = {name: _load_file(project_dir / path) for name, path in files.items()}
        return cls(tables)

    @property
    def names(self) -> list[str]:
        return sorted(self._tables)

    def get(self, table: str, key: Any) -> Any | None:
        """The value for ``key`` (``None`` when missing); an unknown table is an error."""
        rows = self._tables.get(table)
        if rows is None:
            valid = ", ".join(self.names) or "none are configured (see `lookups:` in splice.yaml)"
            raise MappingError(
                f"unknown lookup table '{table}'; valid tables: {valid}", code="lookup-table"
            )
        return rows.get(lookup_key(key))


def lookup_key(key: Any) -> str:
    """The text form of a key: numbers as JSON writes them (``49.0`` -> ``"49"``)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _load_file(path: Path) -> Table:
    if not path.is_file():
        raise ConfigError.at(str(path), 1, 1, "lookup table file not found")
    if path.suffix.lower() == ".csv":
        return _load_csv(path)
    if path.suffix.lower() in {".yaml", ".yml"}:
        return _load_yaml(path)
    raise ConfigError.at(str(path), 1, 1, "a lookup table is a .csv, .yaml or .yml file")


def _load_csv(path: Path) -> Table:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if not header or not header[0]:
            raise ConfigError.at(str(path), 1, 1, "a CSV lookup table needs a header row")
        table: Table = {}
        for row in reader:
            _add_row(path, reader.line_num, header, row, table)
    return table


def _add_row(path: Path, line: int, header: list[str], row: list[str], table: Table) -> None:
    if not row:
        return
    if len(row) != len(header):
        message = f"row has {len(row)} fields, the header has {len(header)}"
        raise ConfigError.at(str(path), line, 1, message)
    if row[0] in table:
        raise ConfigError.at(str(path), line, 1, f"duplicate key '{row[0]}'")
    table[row[0]] = row[1] if len(header) == 2 else dict(zip(header, row, strict=True))


def _load_yaml(path: Path) -> Table:
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError.at(str(path), line, column, str(exc.problem or exc)) from exc
    if not isinstance(data, dict):
        raise ConfigError.at(str(path), 1, 1, "a YAML lookup table is a mapping of key: value")
    return {lookup_key(key): _plain(value) for key, value in data.items()}


def _plain(value: Any) -> Any:
    """YAML values as JSON values (dates become ISO 8601 text)."""
    if isinstance(value, dict):
        return {lookup_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
