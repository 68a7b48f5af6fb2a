"""Every ```console block in docs/ and README.md runs as written.

A block holds ``$ command`` lines, each followed by its expected standard output. Commands
run with bash in the repository root with ``.venv/bin`` first on PATH. A line ``...`` in
the expected output matches any lines; a block whose info string is ``console exit=N``
expects every command in it to exit with N.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```console( exit=(\d+))?\n(.*?)^```", re.S | re.M)


@dataclass
class Example:
    doc: str
    line: int
    command: str
    expected: list[str]
    exit_code: int

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def _examples() -> list[Example]:
    found: list[Example] = []
    docs = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
    for doc in docs:
        text = doc.read_text()
        for block in BLOCK.finditer(text):
            start_line = text[: block.start()].count("\n") + 2
            exit_code = int(block.group(2) or 0)
            current: Example | None = None
            for offset, line in enumerate(block.group(3).splitlines()):
                if line.startswith("$ "):
                    current = Example(
                        str(doc.relative_to(ROOT)), start_line + offset, line[2:], [], exit_code
                    )
                    found.append(current)
                elif current is not None:
                    current.expected.append(line)
    return found


def _matches(expected: list[str], actual: list[str]) -> bool:
    if not expected:
        return True
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and _matches(expected[1:], actual[1:])


@pytest.mark.parametrize("example", _examples(), ids=str)
def test_doc_example_runs_as_written(example: Example) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    done = subprocess.run(
        ["bash", "-c", example.command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == example.exit_code, f"{example}: exit {done.returncode}\n{done.stderr}"
    actual = [line.rstrip() for line in done.stdout.splitlines()]
    expected = [line.rstrip() for line in example.expected]
    assert _matches(expected, actual), (
        f"{example}: `{example.command}`\nexpected:\n"
        + "\n".join(expected)
        + "\nactual:\n"
        + "\n".join(actual)
    )
