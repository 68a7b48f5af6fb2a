"""Cases pass or fail on sink messages, dead letters and routing; failures show a diff."""

from __future__ import annotations

from tests.flowtest.conftest import Splice, Write

PASSING = """\
flow: orders
cases:
  - name: an order goes to both routed sinks as XML
    input: {body: {id: A-1, qty: 2}, headers: {source: crm}}
    expect:
      sinks:
        big:
          - xml: '<Order id="A-1">  <Qty>2</Qty> </Order>'
            where: 'Order.Qty = "2"'
            headers: {source: crm}
            content_type: application/xml
        small: 1
        never: 0
      routed: [small, big]
"""


def test_a_passing_case_prints_pass_and_the_summary(write: Write, splice_test: Splice) -> None:
    write("tests/orders.yaml", PASSING)
    code, out = splice_test()
    assert out.splitlines() == [
        "PASS tests/orders.yaml:3 an order goes to both routed sinks as XML",
        "1 passed, 0 failed",
    ]
    assert code == 0


def test_xml_that_differs_fails_with_a_unified_diff(write: Write, splice_test: Splice) -> None:
    write("tests/orders.yaml", PASSING.replace("<Qty>2</Qty>", "<Qty>3</Qty>"))
    code, out = splice_test()
    assert code == 1
    assert "FAIL tests/orders.yaml:3 an order goes to both routed sinks as XML" in out
    assert "    sinks.big[0].xml: XML differs" in out
    assert "    -  <Qty>3</Qty>" in out
    assert "    +  <Qty>2</Qty>" in out
    assert out.splitlines()[-1] == "0 passed, 1 failed"


def test_json_data_is_compared_after_decoding_with_a_pretty_diff(
    write: Write, splice_test: Splice
) -> None:
    flow = "integration: plain\nsource: {timer: {interval: 1s}}\nsteps: [{decode: json}]\n"
    write("flows/plain.yaml", flow + "sinks: {out: {file: {path: o, name: x}}}\n")
    write(
        "tests/plain.yaml",
        "flow: plain\ncases:\n"
        "  - name: same\n    input: {body: {a: [1, 2]}}\n"
        "    expect: {sinks: {out: [{json: {a: [1, 2.0]}}]}}\n"
        "  - name: different\n    input: {body: {a: [1, 2]}}\n"
        "    expect: {sinks: {out: [{json: {a: [1, 3]}}]}}\n",
    )
    code, out = splice_test()
    assert code == 1
    assert "PASS tests/plain.yaml:3 same" in out
    assert "FAIL tests/plain.yaml:6 different" in out
    assert "    sinks.out[0].json: data differs" in out
    assert "    -    3" in out
    assert "    +    2" in out


def test_an_expected_dead_letter_names_step_code_and_reason(
    write: Write, splice_test: Splice
) -> None:
    write(
        "tests/orders.yaml",
        "flow: orders\ncases:\n  - name: qty 0 is refused\n"
        "    inputs: [{body: {id: A-1, qty: 0}}, {body: {id: A-2, qty: 1}}]\n"
        "    expect:\n      sinks: {big: 1}\n      dead_letters:\n"
        '        - {step: "steps[1].validate", code: contract, reason_contains: /qty}\n',
    )
    assert splice_test() == (0, "PASS tests/orders.yaml:3 qty 0 is refused\n1 passed, 0 failed\n")


def test_an_unexpected_dead_letter_fails_the_case_with_its_reason(
    write: Write, splice_test: Splice
) -> None:
    write(
        "tests/orders.yaml",
        "flow: orders\ncases:\n  - name: bad\n    input: {body: 'not json'}\n",
    )
    code, out = splice_test()
    assert code == 1
    assert "    dead_letters: expected 0, got 1" in out
    assert "input 0: steps[0].decode [codec] flow 'orders', steps[0].decode: not valid JSON" in out


def test_a_wrong_dead_letter_step_is_reported(write: Write, splice_test: Splice) -> None:
    write(
        "tests/orders.yaml",
        "flow: orders\ncases:\n  - name: bad\n    input: {body: {id: A-1}}\n"
        '    expect: {dead_letters: [{step: "steps[0].decode", code: codec}]}\n',
    )
    code, out = splice_test()
    assert code == 1
    assert "    dead_letters[0].step: expected 'steps[0].decode', got 'steps[1].validate'" in out
    assert "    dead_letters[0].code: expected 'codec', got 'contract'" in out


def test_routing_expectations_compare_the_sinks_that_got_messages(
    write: Write, splice_test: Splice
) -> None:
    write(
        "tests/orders.yaml",
        "flow: orders\ncases:\n  - name: routed\n    input: {body: {id: A-1, qty: 1}}\n"
        "    expect: {routed: [big, never]}\n",
    )
    code, out = splice_test()
    assert code == 1
    assert "    routed: expected ['big', 'never'], got ['big', 'small']" in out


def test_body_file_is_sent_as_bytes_typed_by_its_suffix(write: Write, splice_test: Splice) -> None:
    write("fixtures/order.json", '{"id": "F-1", "qty": 4}')
    write(
        "tests/orders.yaml",
        "flow: orders\ncases:\n  - name: from a file\n    input: {body_file: fixtures/order.json}\n"
        "    expect: {sinks: {big: [{text: '<Order id=\"F-1\"><Qty>4</Qty></Order>'}]}}\n",
    )
    code, out = splice_test()
    assert code == 1  # text is exact: the XML declaration is part of the body
    assert "    sinks.big[0].text: text differs" in out
    assert "    +<?xml version='1.0' encoding='utf-8'?>" in out
    assert '     <Order id="F-1"><Qty>4</Qty></Order>' in out
