"""Lookup tables: CSV and YAML files, $lookup(table, key), clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from splice.errors import ConfigError, MappingError
from splice.mapping import UNDEFINED, LookupTables, compile_mapping


@pytest.fixture
def tables(tmp_path: Path) -> LookupTables:
    (tmp_path / "countries.csv").write_text("code,name\nDE,Germany\nFR,France\n")
    (tmp_path / "products.csv").write_text("sku,name,vat\nA1,Hat,0.2\n")
    (tmp_path / "codes.yaml").write_text("49: Germany\nstatus: {open: 1}\n")
    return LookupTables.load(
        tmp_path,
        {"countries": "countries.csv", "products": "products.csv", "codes": "codes.yaml"},
    )


def test_two_column_csv_gives_the_value(tables: LookupTables) -> None:
    mapping = compile_mapping('$lookup("countries", c)', lookups=tables)
    assert mapping.evaluate({"c": "DE"}) == "Germany"


def test_wider_csv_gives_the_row(tables: LookupTables) -> None:
    mapping = compile_mapping('$lookup("products", "A1")', lookups=tables)
    assert mapping.evaluate(None) == {"sku": "A1", "name": "Hat", "vat": "0.2"}


def test_yaml_table_and_numeric_keys(tables: LookupTables) -> None:
    assert compile_mapping('$lookup("codes", 49)', lookups=tables).evaluate(None) == "Germany"
    assert compile_mapping('$lookup("codes", "status").open', lookups=tables).evaluate(None) == 1


def test_missing_key_is_undefined(tables: LookupTables) -> None:
    mapping = compile_mapping('$lookup("countries", "XX")', lookups=tables)
    assert mapping.evaluate(None) is UNDEFINED


def test_unknown_table_names_the_valid_ones(tables: LookupTables) -> None:
    with pytest.raises(MappingError, match="'nope'; valid tables: codes, countries, products"):
        compile_mapping('$lookup("nope", "DE")', lookups=tables).evaluate(None)


def test_builtin_object_lookup_still_works(tables: LookupTables) -> None:
    mapping = compile_mapping('$lookup({"a": 1}, "a")', lookups=tables)
    assert mapping.evaluate(None) == 1


def test_csv_row_with_wrong_field_count_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("code,name\nDE,Germany\nFR\n")
    with pytest.raises(ConfigError) as caught:
        LookupTables.load(tmp_path, {"t": "t.csv"})
    assert caught.value.problems[0].line == 3
    assert "t.csv:3:1: row has 1 fields" in str(caught.value)


def test_csv_duplicate_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("code,name\nDE,a\nDE,b\n")
    with pytest.raises(ConfigError, match=r"t.csv:3:1: duplicate key 'DE'"):
        LookupTables.load(tmp_path, {"t": "t.csv"})


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("a: 1\nb: [1,\n")
    with pytest.raises(ConfigError, match=r"t.yaml:\d+:\d+"):
        LookupTables.load(tmp_path, {"t": "t.yaml"})


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"t\.yaml:1:1: a YAML lookup table is a mapping"):
        LookupTables.load(tmp_path, {"t": "t.yaml"})


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.csv:1:1: lookup table file not found"):
        LookupTables.load(tmp_path, {"t": "nope.csv"})
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"\.csv, \.yaml or \.yml"):
        LookupTables.load(tmp_path, {"t": "t.txt"})
