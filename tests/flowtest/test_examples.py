"""Every example project's flow tests pass under `splice test`; the quickstart fuzzes clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import splice.cli.map
import splice.cli.test  # noqa: F401 - more than one command, as in the real CLI
from splice.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WITH_TESTS = sorted(path.parent for path in EXAMPLES.glob("*/tests"))


@pytest.mark.parametrize("example", WITH_TESTS, ids=lambda path: path.name)
def test_example_flow_tests_pass(example: Path) -> None:
    result = CliRunner().invoke(app, ["test", str(example)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_quickstart_fuzzes_clean() -> None:
    result = CliRunner().invoke(app, ["test", str(EXAMPLES / "quickstart"), "--fuzz", "50"])
    assert result.exit_code == 0, result.stdout
    assert "0 unhandled errors" in result.stdout
