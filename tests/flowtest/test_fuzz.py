"""--fuzz finds inputs that make a step crash; clean splice errors are not findings."""

from __future__ import annotations

from tests.flowtest.conftest import Splice, Write

CRASHY = """\
integration: crashy
source: {timer: {interval: 1s}}
steps:
  - decode: json
  - t-crash: {}
sinks:
  out: {file: {path: out, name: x.json}}
"""


def test_fuzz_reports_the_planted_crash_with_flow_step_and_input(
    write: Write, splice_test: Splice
) -> None:
    write("flows/crashy.yaml", CRASHY)
    code, out = splice_test("--fuzz", "20")
    assert code == 1
    assert "fuzz crashy: 20 generated + " in out
    finding = next(line for line in out.splitlines() if "unexpected array at the top" in line)
    assert finding.startswith("    UNHANDLED crashy steps[1].t-crash: KeyError: 'planted' <- ")
    assert out.splitlines()[-1] == "0 passed, 0 failed"


def test_a_flow_with_clean_errors_only_fuzzes_clean(splice_test: Splice) -> None:
    code, out = splice_test("--fuzz", "30")
    assert "fuzz orders: 30 generated + " in out
    assert ", 0 unhandled errors" in out
    assert code == 0


def test_the_same_inputs_are_generated_on_every_run(write: Write, splice_test: Splice) -> None:
    write("flows/crashy.yaml", CRASHY)
    assert splice_test("--fuzz", "15") == splice_test("--fuzz", "15")
