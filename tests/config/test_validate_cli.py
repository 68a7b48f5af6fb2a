"""splice validate: ok with counts, or every problem as file:line:column and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import splice.cli.validate  # noqa: F401 - registers the command
from splice.cli.app import EXIT_CONFIG, app

from .conftest import Write

runner = CliRunner()


def test_a_valid_project_prints_its_counts(project: Path, write: Write) -> None:
    write("flows/a.yaml", "source: {http: /a}\n")
    write("flows/b.yaml", "source: {http: /b}\n")
    write("systems/erp.yaml", "owner: erp-team\n")

    result = runner.invoke(app, ["validate", str(project)])

    assert (result.exit_code, result.stdout) == (0, "ok: 2 flows, 1 system\n")


def test_problems_are_listed_relative_to_the_current_folder(
    project: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("flows/a.yaml", "source: {http: /a}\nsteps:\n  - mapp: x\n")
    monkeypatch.chdir(project)

    result = runner.invoke(app, ["validate", "."])

    assert result.exit_code == EXIT_CONFIG
    assert result.stdout.splitlines() == [
        "flows/a.yaml:3:5: unknown step 'mapp' — did you mean 'map'?",
        "found 1 problem",
    ]
