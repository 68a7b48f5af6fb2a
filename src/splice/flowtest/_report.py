"""Results as text (``PASS``/``FAIL`` lines, diffs, the summary) and as JUnit XML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]

from splice.flowtest._suite import CaseResult, FileResult

__all__ = ["junit_xml", "summary", "text_lines"]


def text_lines(results: list[FileResult]) -> Iterator[str]:
    """One line per case, each failure's mismatches indented below it."""
    for result in results:
        for case in result.cases:
            verdict = "PASS" if case.passed else "FAIL"
            yield f"{verdict} {result.shown}:{case.line} {case.name}"
            for line in failure_text(case).splitlines():
                yield f"    {line}"


def failure_text(case: CaseResult) -> str:
    return "\n".join(str(mismatch) for mismatch in case.mismatches)


def summary(results: list[FileResult]) -> tuple[int, int]:
    cases = [case for result in results for case in result.cases]
    passed = sum(case.passed for case in cases)
    return passed, len(cases) - passed


def junit_xml(results: list[FileResult]) -> bytes:
    """JUnit XML: a testsuite per file, a testcase per case, a failure holding the diff."""
    root = etree.Element("testsuites", name="splice test")
    passed, failed = summary(results)
    root.set("tests", str(passed + failed))
    root.set("failures", str(failed))
    for result in results:
        suite = etree.SubElement(root, "testsuite", name=result.shown)
        suite.set("tests", str(len(result.cases)))
        suite.set("failures", str(sum(not case.passed for case in result.cases)))
        suite.set("errors", "0")
        for case in result.cases:
            element = etree.SubElement(suite, "testcase", name=case.name)
            element.set("classname", f"{Path(result.shown).stem}.{result.flow}")
            element.set("file", result.shown)
            element.set("line", str(case.line))
            if not case.passed:
                failure = etree.SubElement(element, "failure")
                failure.set("message", str(case.mismatches[0]).splitlines()[0])
                failure.text = failure_text(case)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
