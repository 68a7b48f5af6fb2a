from __future__ import annotations

from pathlib import Path

import pytest

from splice.config import load_project
from splice.errors import ConfigError


def problems(project: Path) -> list[str]:
    """Every problem of the project, as ``relative/file:line:column: message``."""
    with pytest.raises(ConfigError) as caught:
        load_project(project)
    return [
        f"{Path(p.file).relative_to(project)}:{p.line}:{p.column}: {p.message}"
        for p in caught.value.problems
    ]
