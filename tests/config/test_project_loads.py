"""A valid project loads into the dataclasses the runtime builds from."""

from __future__ import annotations

from pathlib import Path

from splice.config import ComponentRef, ErrorPolicy, load_flow, load_project, load_settings

from .conftest import Write

FLOW = """\
integration: crm-orders-to-erp
description: Orders from the CRM to the ERP.
owner: order-to-cash
steward: data-steward@example.com
source:  {http: {path: /crm/orders, method: POST}}
steps:
  - decode: json
  - validate: {schema: schemas/order.schema.json}
  - map: |
      {"total": $sum(items.(qty * price))}
  - encode: xml
sinks:
  erp:   {http: {url: "https://erp.example.com/orders"}}
  audit:
    channel: {name: orders.accepted}
    on_error: {dead_letter: false}
on_error:
  dead_letter: true
"""


def test_a_valid_project_loads(project: Path, write: Write) -> None:
    write("splice.yaml", "project: demo\nruntime: {max_in_flight: 16}\n")
    write("systems/erp.yaml", "owner: erp-team\nconnection: {url: https://erp.example.com}\n")
    path = write("flows/orders.yaml", FLOW)

    loaded = load_project(project)

    assert loaded.settings.project == "demo"
    assert list(loaded.systems) == ["erp"]
    assert loaded.systems["erp"].connection == {"url": "https://erp.example.com"}
    flow = loaded.flows["crm-orders-to-erp"]
    assert (flow.file, flow.owner, flow.steward) == (
        path,
        "order-to-cash",
        "data-steward@example.com",
    )
    assert flow.max_in_flight == 16
    assert len(flow.version) == 12
    assert flow.on_error == ErrorPolicy(dead_letter=True)
    assert [step.path for step in flow.steps] == [
        "steps[0].decode",
        "steps[1].validate",
        "steps[2].map",
        "steps[3].encode",
    ]
    assert [(step.line, step.column) for step in flow.steps] == [(7, 5), (8, 5), (9, 5), (11, 5)]
    assert flow.steps[2].config.model_dump() == {
        "expression": '{"total": $sum(items.(qty * price))}\n'
    }


def test_component_refs_carry_kind_name_path_and_place(project: Path, write: Write) -> None:
    path = write("flows/orders.yaml", FLOW)

    flow = load_flow(path, project_dir=project, settings=load_settings(project))

    assert flow.source == ComponentRef(
        "source", "http", flow.source.config, "source.http", path, 5, 11
    )
    assert flow.sinks["erp"].path == "sinks.erp.http"
    assert flow.sinks["erp"].on_error is None
    assert flow.sinks["audit"].on_error == ErrorPolicy(dead_letter=False)
    assert flow.max_in_flight == 64


def test_the_name_defaults_to_the_file_stem_and_versions_follow_the_bytes(
    project: Path, write: Write
) -> None:
    write("flows/orders-in.yml", "source: {http: /in}\n")
    first = load_project(project).flows["orders-in"]
    write("flows/orders-in.yml", "source: {http: /in}  # changed\n")

    assert load_project(project).flows["orders-in"].version != first.version


def test_an_empty_project_loads_with_default_settings(tmp_path: Path) -> None:
    loaded = load_project(tmp_path)

    assert (loaded.flows, loaded.systems, loaded.settings.runtime.max_in_flight) == ({}, {}, 64)


def test_the_public_surface() -> None:
    import splice.config

    assert splice.config.__all__ == [
        "ComponentRef",
        "ErrorPolicy",
        "FlowSpec",
        "Project",
        "SystemSpec",
        "load_flow",
        "load_project",
        "load_settings",
    ]
