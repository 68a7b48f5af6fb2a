"""--junit writes JUnit XML: a testsuite per file, a testcase per case, failures with diffs."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from tests.flowtest.conftest import Splice, Write


def test_junit_xml_has_a_suite_per_file_and_the_failure_text(
    project: Path, write: Write, splice_test: Splice
) -> None:
    case = (
        "  - name: {name}\n    input: {{body: {{id: A-1, qty: 1}}}}\n"
        "    expect: {{sinks: {{big: {n}}}}}\n"
    )
    write(
        "tests/a.yaml",
        "flow: orders\ncases:\n" + case.format(name="one", n=1) + case.format(name="two", n=2),
    )
    write("tests/b.yaml", "flow: orders\ncases:\n" + case.format(name="three", n=1))
    report = project / "junit.xml"
    code, _ = splice_test("--junit", str(report))
    assert code == 1
    root = etree.fromstring(report.read_bytes())
    assert root.tag == "testsuites"
    assert root.get("tests") == "3"
    assert root.get("failures") == "1"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["tests/a.yaml", "tests/b.yaml"]
    assert [c.get("name") for c in suites[0].findall("testcase")] == ["one", "two"]
    failure = suites[0].find("testcase[@name='two']/failure")
    assert failure is not None
    assert failure.get("message") == "sinks.big: expected 2 messages, got 1"
    assert suites[1].find("testcase/failure") is None
