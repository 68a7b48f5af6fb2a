"""Flow tests: given inputs, expected sink messages, dead letters and routing (``tests/*.yaml``).

::

    suite = await run_project(Path("examples/quickstart"))   # ConfigError on a bad file
    suite.passed, suite.failed

See ``docs/guides/flow-tests.md`` for the file format.
"""

from __future__ import annotations

from splice.flowtest._harness import DeadLetter, FlowHarness, Outcome, input_message
from splice.flowtest._load import TestFile, load_test_file
from splice.flowtest._models import TestFileModel

__all__ = [
    "DeadLetter",
    "FlowHarness",
    "Outcome",
    "TestFile",
    "TestFileModel",
    "input_message",
    "load_test_file",
]
