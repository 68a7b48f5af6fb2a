"""The email sink's configuration: what a flow file may say, and what it may not."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from splice.components import registry
from splice.connectors.email.sink import EmailSinkConfig

BASE: dict[str, Any] = {"host": "smtp.example.com", "from": "s@example.com", "to": ["a@b.example"]}


def parse(**raw: Any) -> EmailSinkConfig:
    config = registry.get("sink", "email").parse({**BASE, **raw})
    assert isinstance(config, EmailSinkConfig)
    return config


def test_default_ports() -> None:
    assert parse().effective_port == 25
    assert parse(starttls=True).effective_port == 587
    assert parse(tls=True).effective_port == 465
    assert parse(port=2525).effective_port == 2525


def test_the_password_is_a_secret() -> None:
    config = parse(username="u", password="hunter2-value")
    assert "hunter2-value" not in repr(config)


@pytest.mark.parametrize(
    "raw",
    [
        {"tls": True, "starttls": True},
        {"to_header": "notify"},  # no allow_domains
        {"to": []},  # nobody to send to
        {"to": ["Name <a@b.example>"]},
        {"to": ["a@b.example\r\nBcc: x@y.example"]},
        {"from": "not-an-address"},
        {"subject": "{id.__class__}"},
        {"subject": "{message}"},
        {"subject": "{id:>10}"},
        {"filename": "unbalanced {"},
        {"allow_domains": ["*.example.com"], "to_header": "x"},
        {"password": "p"},  # without username
        {"unknown": 1},
    ],
)
def test_invalid_configs_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse(**raw)


def test_the_spec_example_validates() -> None:
    from ruamel.yaml import YAML

    spec = registry.get("sink", "email")
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == "email"
    spec.parse(raw)
