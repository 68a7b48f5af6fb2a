"""A wrong test file exits 2 with every problem on its line, like a wrong flow file."""

from __future__ import annotations

from tests.flowtest.conftest import Splice, Write


def test_unknown_keys_and_missing_input_are_placed_on_their_lines(
    write: Write, splice_test: Splice
) -> None:
    write(
        "tests/orders.yaml",
        "flow: orders\n"
        "cases:\n"
        "  - name: typo\n"
        "    input: {body: {id: A}}\n"
        "    expect:\n"
        "      sinkz: {}\n"
        "  - name: no input\n"
        "    expect: {}\n",
    )
    code, out = splice_test()
    assert code == 2
    lines = out.splitlines()
    assert any(
        line.endswith("tests/orders.yaml:6:7: cases[0].expect: unknown key 'sinkz'")
        for line in lines
    ), out
    assert any(
        line.endswith("tests/orders.yaml:7:5: cases[1]: give exactly one of 'input' and 'inputs'")
        for line in lines
    ), out


def test_a_wrong_message_check_inside_a_sink_list_is_placed(
    write: Write, splice_test: Splice
) -> None:
    write(
        "tests/orders.yaml",
        "flow: orders\ncases:\n  - name: x\n    input: {body: 1}\n    expect:\n"
        "      sinks:\n        big:\n          - {jsn: 1}\n",
    )
    code, out = splice_test()
    assert code == 2
    assert "tests/orders.yaml:8:14: cases[0].expect.sinks.big[0]: unknown key 'jsn'" in out


def test_unknown_flow_and_sink_names_get_a_suggestion(write: Write, splice_test: Splice) -> None:
    write("tests/a.yaml", "flow: order\ncases:\n  - name: x\n    input: {body: 1}\n")
    write(
        "tests/b.yaml",
        "flow: orders\ncases:\n  - name: x\n    input: {body: 1}\n"
        "    expect:\n      sinks: {bgi: 1}\n      routed: [smal]\n",
    )
    code, out = splice_test()
    assert code == 2
    assert "tests/a.yaml:1:7: flow: no flow 'order' — did you mean 'orders'?" in out
    assert "tests/b.yaml:6:15: expect.sinks: flow 'orders' has no sink 'bgi'" in out
    assert "tests/b.yaml:7:16: expect.routed: flow 'orders' has no sink 'smal'" in out


def test_missing_files_and_invalid_yaml_are_reported(write: Write, splice_test: Splice) -> None:
    write("tests/a.yaml", "flow: orders\ncases:\n  - name: x\n    input: {body_file: nope.json}\n")
    write("tests/b.yaml", "flow: orders\ncases: [\n")
    code, out = splice_test()
    assert code == 2
    assert "tests/a.yaml:4:24: body_file: file not found: nope.json" in out
    assert "tests/b.yaml:3:1: YAML syntax error" in out


def test_a_broken_project_exits_2(write: Write, splice_test: Splice) -> None:
    write("flows/bad.yaml", "source: {nope: {}}\nsinks: {}\n")
    code, out = splice_test()
    assert code == 2
    assert "flows/bad.yaml:1:10: unknown source 'nope'" in out
