"""Secrets only by reference: resolved at load, masked everywhere, never printed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from splice import secrets
from splice.config import load_project

from .conftest import Write
from .helpers import problems

SOURCE = "source: {http: /orders}\n"


def test_env_and_file_references_are_resolved(
    project: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERP_PASSWORD", "pa55-from-env")
    write("secrets/erp.url", "https://erp.example.com/orders\n")
    write(
        "flows/a.yaml",
        SOURCE
        + "sinks:\n  erp:\n    http:\n      url: ${file:secrets/erp.url}\n"
        + "      password: ${env:ERP_PASSWORD}\n",
    )

    config = load_project(project).flows["a"].sinks["erp"].config

    assert config.model_dump() == {
        "url": "https://erp.example.com/orders",
        "password": "pa55-from-env",
    }


def test_resolved_values_are_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPLICE_TEST_TOKEN", "tok-8c1f5e")

    value = secrets.resolve("Bearer ${env:SPLICE_TEST_TOKEN}", tmp_path)

    assert value == "Bearer tok-8c1f5e"
    assert secrets.mask("sent Bearer tok-8c1f5e to erp") == "sent Bearer *** to erp"


def test_log_records_are_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SPLICE_TEST_KEY", "key-77aa09")
    secrets.resolve("${env:SPLICE_TEST_KEY}", tmp_path)
    logger = logging.getLogger("splice.test.masking")
    logger.addFilter(secrets.MaskingFilter())

    with caplog.at_level(logging.INFO):
        logger.info("calling with %s", "key-77aa09")

    assert caplog.messages == ["calling with ***"]


def test_double_dollar_escapes_a_literal_reference(tmp_path: Path) -> None:
    assert secrets.resolve("cost: $${env:X} and $$5", tmp_path) == "cost: ${env:X} and $$5"


def test_unset_variable_and_missing_file_are_errors_at_their_line(
    project: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPLICE_UNSET_VARIABLE", raising=False)
    write(
        "flows/a.yaml",
        SOURCE
        + "sinks:\n  erp:\n    http:\n      url: ${file:secrets/none.txt}\n"
        + "      password: ${env:SPLICE_UNSET_VARIABLE}\n",
    )

    assert problems(project) == [
        "flows/a.yaml:5:12: url: secret file not found: secrets/none.txt",
        "flows/a.yaml:6:17: password: environment variable SPLICE_UNSET_VARIABLE is not set",
    ]


def test_unknown_reference_kind_is_an_error(project: Path, write: Write) -> None:
    write("flows/a.yaml", SOURCE + "description: ${vault:erp}\n")

    assert problems(project) == [
        "flows/a.yaml:2:14: description: unknown reference '${vault:erp}': "
        "use ${env:NAME} or ${file:PATH}"
    ]


@pytest.mark.parametrize("key", ["password", "DB_Password", "api_key", "token", "client_secret"])
def test_a_literal_secret_is_refused_without_printing_it(
    project: Path, write: Write, key: str
) -> None:
    write("systems/erp.yaml", f"owner: erp-team\nconnection:\n  {key}: hunter2\n")

    found = problems(project)

    assert found == [
        f"systems/erp.yaml:3:{len(key) + 5}: {key}: "
        "secrets only by reference: use ${env:NAME} or ${file:PATH}"
    ]
    assert "hunter2" not in "".join(found)


def test_a_literal_secret_in_a_flow_is_refused(project: Path, write: Write) -> None:
    write("flows/a.yaml", SOURCE + "sinks:\n  erp: {http: {url: /x, password: hunter2}}\n")

    assert problems(project) == [
        "flows/a.yaml:3:35: password: secrets only by reference: use ${env:NAME} or ${file:PATH}"
    ]


def test_keys_that_merely_contain_a_secret_word_are_not_secrets() -> None:
    assert not secrets.is_secret_key("token_url")
    assert not secrets.is_secret_key("secretary")
    assert secrets.is_secret_key("X-Api-Key")
    assert secrets.is_secret_key("AUTHORIZATION")


def test_a_port_by_reference_is_not_masked_but_a_short_password_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SPLICE_TEST_PORT", "7")
    monkeypatch.setenv("SPLICE_TEST_PIN", "913")
    assert secrets.resolve("${env:SPLICE_TEST_PORT}", tmp_path, key="port") == "7"
    assert secrets.resolve("${env:SPLICE_TEST_PIN}", tmp_path, key="db_password") == "913"

    assert secrets.mask("worker 7 on port 7") == "worker 7 on port 7"
    assert secrets.mask("pin 913") == "pin ***"


def test_a_numeric_value_outside_a_secret_key_is_not_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SPLICE_TEST_TIMEOUT", "86400")
    monkeypatch.setenv("SPLICE_TEST_USER", "svc-orders")
    secrets.resolve("${env:SPLICE_TEST_TIMEOUT}", tmp_path, key="ttl")
    secrets.resolve("amqp://${env:SPLICE_TEST_USER}@mq", tmp_path, key="url")
    assert secrets.mask("ttl 86400 for svc-orders") == "ttl 86400 for ***"
