"""A flow test runs without the credentials of the sources and sinks it replaces."""

from __future__ import annotations

import pytest

from splice.config import load_project
from splice.errors import ConfigError
from tests.flowtest.conftest import Splice, Write

FLOW = """\
integration: push
source: {timer: {interval: 1s}}
steps:
  - decode: json
EXTRA
sinks:
  erp:
    http:
      url: ${env:SPLICE_T_ERP_URL}
      headers: {x-api-key: "${env:SPLICE_T_ERP_KEY}"}
"""
CASE = """\
flow: push
cases:
  - name: the order reaches the ERP sink
    input: {body: {id: A-1}}
    expect: {sinks: {erp: [{json: {id: A-1}}]}}
"""


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPLICE_T_ERP_URL", "SPLICE_T_ERP_KEY", "SPLICE_T_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_unset_references_of_replaced_sinks_do_not_stop_the_test(
    write: Write, splice_test: Splice
) -> None:
    write("flows/push.yaml", FLOW.replace("EXTRA\n", ""))
    write("tests/push.yaml", CASE)
    code, out = splice_test()
    assert (code, out) == (
        0,
        "PASS tests/push.yaml:3 the order reaches the ERP sink\n1 passed, 0 failed\n",
    )


def test_a_step_that_needs_an_unset_reference_is_named_with_its_line(
    write: Write, splice_test: Splice
) -> None:
    step = "  - set: {headers: {region: \"'${env:SPLICE_T_REGION}'\"}}\n"
    write("flows/push.yaml", FLOW.replace("EXTRA\n", step))
    write("tests/push.yaml", CASE)
    code, out = splice_test()
    assert code != 0
    assert "flows/push.yaml:5:" in out
    assert "steps[1].set: ${env:SPLICE_T_REGION} is not set" in out
    assert "Traceback" not in out


def test_loading_for_a_run_still_requires_every_reference(write: Write) -> None:
    path = write("flows/push.yaml", FLOW.replace("EXTRA\n", ""))
    with pytest.raises(ConfigError, match="SPLICE_T_ERP_URL is not set"):
        load_project(path.parent.parent)
