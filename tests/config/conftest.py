"""Small component specs, so the loader is tested apart from the real (changing) components."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import Field, ValidationInfo, field_validator

from splice.components import registry
from splice.components.spec import ComponentConfig, ComponentSpec, Kind


class PathConfig(ComponentConfig):
    path: str = Field(description="Path to listen on.")
    method: str = "POST"


class UrlConfig(ComponentConfig):
    url: str
    password: str | None = None


class NameConfig(ComponentConfig):
    name: str


class FormatConfig(ComponentConfig):
    format: str

    @field_validator("format")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value not in registry.names("codec"):
            raise ValueError(
                f"unknown codec '{value}'{registry.suggest(value, registry.names('codec'))}"
            )
        return value


class SchemaConfig(ComponentConfig):
    schema_file: str = Field(alias="schema")

    @field_validator("schema_file")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        project_dir = (info.context or {}).get("project_dir")
        if project_dir is not None and not (Path(project_dir) / value).is_file():
            raise ValueError(f"schema file not found: {value}")
        return value


class MapConfig(ComponentConfig):
    expression: str


class RouteConfig(ComponentConfig):
    to: str

    @field_validator("to")
    @classmethod
    def _sink_exists(cls, value: str, info: ValidationInfo) -> str:
        sinks = (info.context or {}).get("sink_names", [])
        if value not in sinks:
            raise ValueError(f"no sink named '{value}'{registry.suggest(value, sinks)}")
        return value


class NoConfig(ComponentConfig):
    pass


def _spec(
    kind: Kind, name: str, config: type[ComponentConfig], shorthand: str | None = None
) -> ComponentSpec:
    return ComponentSpec(
        kind=kind,
        name=name,
        summary=f"Test {kind} {name}.",
        config=config,
        example=f"{name}: {{}}",
        factory="builtins:print",
        shorthand=shorthand,
    )


SPECS = [
    _spec("source", "http", PathConfig, "path"),
    _spec("sink", "http", UrlConfig, "url"),
    _spec("sink", "channel", NameConfig, "name"),
    _spec("step", "decode", FormatConfig, "format"),
    _spec("step", "encode", FormatConfig, "format"),
    _spec("step", "validate", SchemaConfig, "schema"),
    _spec("step", "map", MapConfig, "expression"),
    _spec("step", "route", RouteConfig, "to"),
    _spec("codec", "json", NoConfig),
    _spec("codec", "xml", NoConfig),
]


@pytest.fixture(autouse=True)
def test_components(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry holds exactly :data:`SPECS` during each test of this folder."""
    table: dict[Kind, dict[str, str]] = {kind: {} for kind in registry.KINDS}
    for spec in SPECS:
        table[spec.kind][spec.name] = "unused"
    monkeypatch.setattr(registry, "_BUILTIN", table)
    monkeypatch.setattr(registry, "_plugins", {kind: {} for kind in registry.KINDS})
    monkeypatch.setattr(registry, "_loaded", {(s.kind, s.name): s for s in SPECS})


Write = Callable[[str, str], Path]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.schema.json").write_text("{}")
    return tmp_path


@pytest.fixture
def write(project: Path) -> Write:
    """``write("flows/a.yaml", text)``: a file of the project, dedented."""

    def write_file(relative: str, text: str) -> Path:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write_file
