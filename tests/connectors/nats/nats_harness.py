"""Shared by the NATS tests: the server URL and the service check."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # tests/ is a package; these test folders are not
    sys.path.insert(0, str(ROOT))

from tests.services import require  # noqa: E402

__all__ = ["ROOT", "URL", "require"]

URL = "nats://127.0.0.1:4222"
