"""A small project on disk (flows, schema, test files) and the test-only steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import splice.cli.map
import splice.cli.test  # noqa: F401 - more than one command, as in the real CLI
from splice.cli.app import app
from splice.components import registry

Write = Callable[[str, str], Path]
Splice = Callable[..., tuple[int, str]]

SCHEMA = """{
  "type": "object",
  "required": ["id", "qty"],
  "properties": {"id": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}
}"""
ORDERS = """\
integration: orders
source: {timer: {interval: 1s}}
steps:
  - decode: json
  - validate: {schema: schemas/order.json}
  - map: '{"Order": {"@id": id, "Qty": qty}}'
  - t-route: [big, small]
  - encode: xml
sinks:
  big: {file: {path: out, name: big.xml}}
  small: {file: {path: out, name: small.xml}}
  never: {file: {path: out, name: never.xml}}
"""


@pytest.fixture(autouse=True)
def components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._BUILTIN["step"], "t-route", "tests.flowtest.components:ROUTE")
    monkeypatch.setitem(registry._BUILTIN["step"], "t-crash", "tests.flowtest.components:CRASH")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "splice.yaml").write_text("project: t\n")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "orders.yaml").write_text(ORDERS)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.json").write_text(SCHEMA)
    (tmp_path / "tests").mkdir()
    return tmp_path


@pytest.fixture
def write(project: Path) -> Write:
    def write(name: str, text: str) -> Path:
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return write


@pytest.fixture
def splice_test(project: Path) -> Splice:
    """``splice test PROJECT *args`` in process: (exit code, stdout)."""

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["test", str(project), *args])
        return result.exit_code, result.stdout

    return run
