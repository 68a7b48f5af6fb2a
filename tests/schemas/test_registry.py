"""The schema registry on the state store: SQLite, and PostgreSQL when reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from splice.schemas import (
    Compatibility,
    IncompatibleSchema,
    InvalidSchema,
    SchemaNotFound,
    SchemaRegistry,
    parse_reference,
    subject_for_file,
)
from splice.store import Store
from tests.store.conftest import fresh_postgres_schema


def schema(**properties: str) -> str:
    required = [name for name in properties if not name.startswith("_")]
    props = {name.lstrip("_"): {"type": kind} for name, kind in properties.items()}
    return orjson.dumps({"type": "object", "properties": props, "required": required}).decode()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        opened = await Store.open("sqlite:///.splice/state.db", project_dir=tmp_path)
        yield opened
        await opened.close()
        return
    async with fresh_postgres_schema() as url:
        opened = await Store.open(url, project_dir=tmp_path)
        yield opened
        await opened.close()


@pytest.fixture
def registry(store: Store) -> SchemaRegistry:
    return SchemaRegistry(store.schemas)


async def test_versions_round_trip_through_the_store(registry: SchemaRegistry) -> None:
    first = await registry.register("order", schema(id="string", total="number"), "json")
    second = await registry.register(
        "order", schema(id="string", total="number", _n="string"), "json"
    )
    assert (first.schema.version, second.schema.version) == (1, 2)
    assert first.created
    assert second.created
    assert (await registry.get("order", 1)).text == first.schema.text
    assert (await registry.get("order", "latest")).version == 2
    assert (await registry.resolve("order@1")).version == 1
    assert (await registry.resolve("order")).version == 2
    assert await registry.list() == [("order", 2, "json")]
    assert [v.version for v in await registry.versions("order")] == [1, 2]


async def test_an_identical_schema_returns_the_existing_version(registry: SchemaRegistry) -> None:
    await registry.register("order", schema(id="string"), "json")
    reformatted = orjson.dumps(orjson.loads(schema(id="string")), option=orjson.OPT_INDENT_2)
    again = await registry.register("order", reformatted.decode(), "json")
    assert (again.schema.version, again.created) == (1, False)


async def test_an_incompatible_schema_is_refused_with_its_breaking_changes(
    registry: SchemaRegistry,
) -> None:
    await registry.register("order", schema(id="string", qty="integer", total="number"), "json")
    await registry.set_mode("order", "FORWARD")
    with pytest.raises(IncompatibleSchema) as caught:
        await registry.register("order", schema(id="string", qty="string"), "json")
    found = [str(c) for c in caught.value.changes]
    assert found == ["field 'total' removed", "type of 'qty' changed from integer to string"]
    assert "not FORWARD compatible" in str(caught.value)
    assert await registry.list() == [("order", 1, "json")]


async def test_transitive_modes_check_every_earlier_version(registry: SchemaRegistry) -> None:
    await registry.register("o", schema(id="string", qty="integer"), "json")
    await registry.register("o", schema(id="string"), "json")
    later = schema(id="string", _qty="string")
    assert await registry.check("o", later, "json") == []  # BACKWARD: against v2 only
    await registry.set_mode("o", Compatibility.BACKWARD_TRANSITIVE)
    found = await registry.check("o", later, "json")
    assert [str(c) for c in found] == ["type of 'qty' changed from integer to string"]


async def test_mode_none_accepts_anything_but_another_type_needs_none(
    registry: SchemaRegistry,
) -> None:
    await registry.register("s", schema(id="string"), "json")
    avro = '{"type": "record", "name": "S", "fields": []}'
    with pytest.raises(IncompatibleSchema, match="schema type changed from json to avro"):
        await registry.register("s", avro, "avro")
    await registry.set_mode("s", "none")
    assert (await registry.register("s", avro, "avro")).schema.version == 2


async def test_diff_lists_every_change_with_what_it_breaks(registry: SchemaRegistry) -> None:
    await registry.register("o", schema(id="string", qty="integer"), "json")
    await registry.set_mode("o", "NONE")
    await registry.register("o", schema(id="string", _qty="number", _note="string"), "json")
    found = {c.description: c.kind for c in await registry.diff("o", 1, 2)}
    assert found == {
        "field 'note' added": "compatible",
        "field 'qty' became optional": "breaks forward",
        "type of 'qty' changed from integer to number": "breaks forward",
    }


async def test_unknown_subjects_versions_and_bad_schemas_are_clear(
    registry: SchemaRegistry,
) -> None:
    with pytest.raises(SchemaNotFound, match="subject 'nope' has no version"):
        await registry.resolve("nope@latest")
    await registry.register("o", schema(id="string"), "json")
    with pytest.raises(SchemaNotFound, match="no version 7"):
        await registry.get("o", 7)
    with pytest.raises(InvalidSchema, match="not valid JSON"):
        await registry.register("o", "{", "json")
    with pytest.raises(InvalidSchema, match="not a valid Avro schema"):
        await registry.register("a", '{"type": "record"}', "avro")
    with pytest.raises(InvalidSchema, match="DOCTYPE"):
        await registry.register("x", '<!DOCTYPE x [<!ENTITY e "x">]><x/>', "xsd")


async def test_seeding_from_the_project_schemas_folder(
    registry: SchemaRegistry, tmp_path: Path
) -> None:
    folder = tmp_path / "schemas"
    (folder / "crm").mkdir(parents=True)
    (folder / "order.schema.json").write_text(schema(id="string"))
    (folder / "crm" / "customer.avsc").write_text('{"type": "record", "name": "C", "fields": []}')
    (folder / "invoice.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')
    (folder / "README.md").write_text("not a schema")
    results = await registry.seed(folder)
    assert [(r.schema.subject, r.created) for r in results] == [
        ("crm.customer", True),
        ("invoice", True),
        ("order", True),
    ]
    assert all(not r.created for r in await registry.seed(folder))


def test_references_and_file_names() -> None:
    assert parse_reference("crm.order@2") == ("crm.order", 2)
    assert parse_reference("order@latest") == ("order", None)
    with pytest.raises(SchemaNotFound):
        parse_reference("order@0")
    root = Path("schemas")
    assert subject_for_file(root / "order.schema.json", root) == ("order", "json")
    assert subject_for_file(root / "a" / "b.xsd", root) == ("a.b", "xsd")
    assert subject_for_file(root / "notes.txt", root) is None
