"""Each kind of mistake in a flow file is reported at its file:line:column, with what is valid."""

from __future__ import annotations

from pathlib import Path

from .conftest import Write
from .helpers import problems

VALID_TAIL = """
sinks:
  out: {channel: {name: orders}}
"""


def test_unknown_top_level_key_suggests_the_closest(project: Path, write: Write) -> None:
    write("flows/a.yaml", "sorce: {http: /orders}\n" + VALID_TAIL)

    assert problems(project) == [
        "flows/a.yaml:1:1: unknown key 'sorce' — did you mean 'source'?",
        "flows/a.yaml:1:1: missing required key 'source'",
    ]


def test_unknown_step_suggests_the_closest(project: Path, write: Write) -> None:
    write(
        "flows/a.yaml",
        """
        source: {http: /orders}
        steps:
          - decode: json
          - mapp: '{"a": 1}'
        sinks:
          out: {channel: {name: orders}}
        """,
    )

    assert problems(project) == ["flows/a.yaml:4:5: unknown step 'mapp' — did you mean 'map'?"]


def test_unknown_source_and_sink_list_or_suggest(project: Path, write: Write) -> None:
    write(
        "flows/a.yaml",
        """
        source: {htp: {path: /orders}}
        sinks:
          out: {chanel: {name: orders}}
        """,
    )

    assert problems(project) == [
        "flows/a.yaml:1:10: unknown source 'htp' — did you mean 'http'?",
        "flows/a.yaml:3:9: unknown sink 'chanel' — did you mean 'channel'?",
    ]


def test_unknown_codec_is_reported_at_its_value(project: Path, write: Write) -> None:
    write("flows/a.yaml", "source: {http: /orders}\nsteps:\n  - decode: jsn\n" + VALID_TAIL)

    assert problems(project) == [
        "flows/a.yaml:3:13: steps[0].decode.format: unknown codec 'jsn' — did you mean 'json'?"
    ]


def test_wrong_type_names_the_field_path_and_its_line(project: Path, write: Write) -> None:
    write(
        "flows/a.yaml",
        """
        source: {http: /orders}
        steps:
          - validate:
              schema: [not, a, string]
        max_in_flight: many
        sinks:
          out: {channel: {name: orders}}
        """,
    )

    assert problems(project) == [
        "flows/a.yaml:4:15: steps[0].validate.schema: Input should be a valid string",
        "flows/a.yaml:5:16: max_in_flight: Input should be a valid integer, "
        "unable to parse string as an integer",
    ]


def test_unknown_key_inside_a_component_suggests_its_fields(project: Path, write: Write) -> None:
    write("flows/a.yaml", "source:\n  http: {pth: /orders}\n" + VALID_TAIL)

    assert problems(project) == [
        "flows/a.yaml:2:9: source.http: missing required key 'path'",
        "flows/a.yaml:2:10: source.http: unknown key 'pth' — did you mean 'path'?",
    ]


def test_missing_required_key_points_at_the_component(project: Path, write: Write) -> None:
    write("flows/a.yaml", "source: {http: /orders}\nsinks:\n  erp:\n    http: {password: null}\n")

    assert problems(project) == ["flows/a.yaml:4:11: sinks.erp.http: missing required key 'url'"]


def test_bad_reference_points_at_the_value(project: Path, write: Write) -> None:
    write(
        "flows/a.yaml",
        """
        source: {http: /orders}
        steps:
          - validate: {schema: schemas/missing.json}
          - route: {to: ouf}
        sinks:
          out: {channel: {name: orders}}
        """,
    )

    assert problems(project) == [
        "flows/a.yaml:3:24: steps[0].validate.schema: schema file not found: schemas/missing.json",
        "flows/a.yaml:4:17: steps[1].route.to: no sink named 'ouf' — did you mean 'out'?",
    ]


def test_yaml_syntax_error_has_ruamels_place(project: Path, write: Write) -> None:
    write("flows/a.yaml", "source: {http: /orders\nsteps: []\n")

    assert problems(project) == [
        "flows/a.yaml:2:6: YAML syntax error: expected ',' or '}', but got ':'"
    ]


def test_duplicate_key_names_the_key_but_not_the_values(project: Path, write: Write) -> None:
    write("flows/a.yaml", "source: {http: /orders}\nowner: a\nowner: s3cr3t\n" + VALID_TAIL)

    assert problems(project) == ["flows/a.yaml:3:1: duplicate key 'owner'"]


def test_a_component_entry_must_be_a_one_key_mapping(project: Path, write: Write) -> None:
    write(
        "flows/a.yaml",
        """
        source: {http: /orders, channel: {name: x}}
        steps:
          - decode
          - {decode: json, encode: xml}
        sinks:
          out: {channel: {name: orders}}
        """,
    )

    assert problems(project) == [
        "flows/a.yaml:1:9: source: a source is a mapping of one key, "
        "the source type, e.g. 'http: {path: /orders}'",
        "flows/a.yaml:3:5: steps[0]: a step is a mapping of one key, "
        "the step name, e.g. '- decode: json'",
        "flows/a.yaml:4:5: steps[1]: a step is a mapping of one key, "
        "the step name, e.g. '- decode: json'",
    ]


def test_empty_file_needs_a_source(project: Path, write: Write) -> None:
    write("flows/a.yaml", "# nothing yet\n")

    assert problems(project) == [
        "flows/a.yaml:1:1: empty file: a flow needs at least 'source' and 'sinks'"
    ]


def test_duplicate_flow_names_across_files(project: Path, write: Write) -> None:
    write("flows/a.yaml", "integration: orders\nsource: {http: /a}\n" + VALID_TAIL)
    write("flows/b.yml", "integration: orders\nsource: {http: /b}\n" + VALID_TAIL)

    assert problems(project) == [
        f"flows/b.yml:1:14: duplicate flow name 'orders' (also in {project}/flows/a.yaml)"
    ]


def test_every_problem_of_every_file_is_listed(project: Path, write: Write) -> None:
    write("flows/a.yaml", "sorce: {}\n")
    write("flows/b.yaml", "source: {http: /b}\nsteps:\n  - mapp: x\n" + VALID_TAIL)
    write("splice.yaml", "runtime: {max_in_flight: 0}\n")

    assert problems(project) == [
        "splice.yaml:1:26: runtime.max_in_flight: Input should be greater than or equal to 1",
        "flows/a.yaml:1:1: unknown key 'sorce' — did you mean 'source'?",
        "flows/a.yaml:1:1: missing required key 'source'",
        "flows/b.yaml:3:5: unknown step 'mapp' — did you mean 'map'?",
    ]


def test_unknown_on_error_key_and_wrong_dead_letter(project: Path, write: Write) -> None:
    write(
        "flows/a.yaml",
        """
        source: {http: /orders}
        on_error: {dead_leter: true, dead_letter: maybe}
        sinks:
          out:
            channel: {name: orders}
            on_error: {retyr: {attempts: 3}}
        """,
    )

    assert problems(project) == [
        "flows/a.yaml:2:12: on_error: unknown key 'dead_leter' — did you mean 'dead_letter'?",
        "flows/a.yaml:2:43: on_error.dead_letter: Input should be a valid boolean, "
        "unable to interpret input",
        "flows/a.yaml:6:16: sinks.out.on_error: unknown key 'retyr' — did you mean 'retry'?",
    ]


def test_splice_yaml_unknown_key(project: Path, write: Write) -> None:
    write("splice.yaml", "project: demo\nhttp:\n  prot: 9000\n")

    assert problems(project) == ["splice.yaml:3:3: http: unknown key 'prot' — did you mean 'port'?"]
