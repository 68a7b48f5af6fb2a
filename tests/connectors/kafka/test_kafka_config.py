"""The kafka source's and sink's configuration: what a flow file may say, and the errors
(at file:line) for what it may not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from splice.components import registry
from splice.components.context import Context
from splice.config import load_project
from splice.connectors.kafka._connection import client_options
from splice.connectors.kafka.sink import KafkaSinkConfig
from splice.connectors.kafka.source import KafkaSourceConfig
from splice.errors import ConfigError

SOURCE: dict[str, Any] = {"topics": ["orders"], "group": "erp"}
SINK: dict[str, Any] = {"topic": "orders"}


def source(**raw: Any) -> KafkaSourceConfig:
    config = registry.get("source", "kafka").parse({**SOURCE, **raw})
    assert isinstance(config, KafkaSourceConfig)
    return config


def sink(**raw: Any) -> KafkaSinkConfig:
    config = registry.get("sink", "kafka").parse({**SINK, **raw})
    assert isinstance(config, KafkaSinkConfig)
    return config


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: Any) -> None:
    spec = registry.get(kind, "kafka")
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == "kafka"
    spec.parse(raw)


def test_defaults_are_the_safe_ones() -> None:
    consumer, producer = source(), sink()
    assert consumer.auto_offset_reset == "earliest"
    assert consumer.isolation_level == "read_committed"
    assert producer.idempotent and producer.acks == "all"
    assert consumer.brokers == ["127.0.0.1:9092"]


def test_brokers_as_a_comma_separated_text_and_one_topic_as_text() -> None:
    config = source(brokers="k1:9092, k2:9093", topics="orders")
    assert config.brokers == ["k1:9092", "k2:9093"]
    assert config.topics == ["orders"]
    shorthand = registry.get("source", "kafka").parse("orders")
    assert shorthand.model_dump()["topics"] == ["orders"]
    assert shorthand.model_dump()["group"] is None  # the flow's own group: splice-<flow>


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"brokers": ["kafka-1"]}, "'kafka-1' is not host:port"),
        ({"brokers": ["kafka://k:9092"]}, "is not host:port"),
        ({"brokers": ["k:99999"]}, "is not host:port"),
        ({"brokers": []}, "at least one broker"),
        ({"topics": None}, "give either topics or topic_pattern"),
        ({"topic_pattern": "orders\\..*"}, "give either topics or topic_pattern"),
        ({"topics": []}, "topics is empty"),
        ({"topics": None, "topic_pattern": "orders.("}, "not a regular expression"),
        ({"heartbeat_interval": "20s"}, "shorter than session_timeout"),
        ({"auto_offset_reset": "oldest"}, "'earliest' or 'latest'"),
        ({"commit_interval": 0}, "greater than 0"),
        ({"sasl": {"username": "u"}}, "password"),
        ({"sasl": {"mechanism": "GSSAPI", "username": "u", "password": "p"}}, "PLAIN"),
        ({"tls": {"cert_file": "client.pem"}}, "cert_file and key_file go together"),
        ({"group_id": "erp"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_source_configs_are_refused(raw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        source(**raw)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"topic": "orders created"}, "should match pattern"),
        ({"topic_header": "route"}, "topic_header needs allow_topics"),
        ({"allow_topics": ["a"]}, "allow_topics is only used with topic_header"),
        ({"topic_header": "route", "allow_topics": ["no way"]}, "not a valid topic name"),
        ({"key": "a", "key_header": "b"}, "key or key_header, not both"),
        ({"key": "customer.(id"}, "key is not a valid JSONata expression"),
        ({"acks": "leader"}, "idempotent producer needs acks: all"),
        ({"compression": "snappy"}, "'none' or 'gzip'"),
        ({"partition": -1}, "greater than or equal to 0"),
    ],
)
def test_invalid_sink_configs_are_refused(raw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        sink(**raw)


def test_acks_leader_without_idempotence_is_allowed() -> None:
    assert sink(acks="leader", idempotent=False).acks == "leader"


def test_secrets_are_never_shown_and_the_protocol_follows_tls_and_sasl(tmp_path: Path) -> None:
    config = source(sasl={"username": "splice", "password": "s3cret-value"}, tls=True)
    assert "s3cret-value" not in repr(config)
    assert "s3cret-value" not in str(config.model_dump())
    options = client_options(config, Context(tmp_path, "orders"))
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_password"] == "s3cret-value"
    assert options["client_id"] == "splice-orders"
    assert source().security_protocol == "PLAINTEXT"
    assert source(tls=True).security_protocol == "SSL"
    assert source(sasl={"username": "u", "password": "p"}).security_protocol == "SASL_PLAINTEXT"


def problems(project: Path, flow: str) -> list[str]:
    (project / "flows").mkdir(exist_ok=True)
    (project / "flows" / "a.yaml").write_text(textwrap.dedent(flow).lstrip("\n"))
    with pytest.raises(ConfigError) as caught:
        load_project(project)
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in caught.value.problems]


def test_a_bad_source_config_is_reported_at_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        source:
          kafka:
            brokers: [kafka-1]
            topics: [orders]
            group: erp
        sinks:
          out: {channel: {name: orders}}
        """,
    )
    assert len(found) == 1
    assert found[0].startswith("a.yaml:3: ")
    assert "'kafka-1' is not host:port" in found[0]


def test_a_literal_sasl_password_is_refused_at_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        source: {channel: {name: orders}}
        sinks:
          out:
            kafka:
              topic: orders
              sasl:
                username: splice
                password: hunter2-literal
        """,
    )
    assert len(found) == 1
    assert found[0].startswith("a.yaml:8: ")
    assert "${env:" in found[0]
    assert "hunter2-literal" not in found[0]


def test_a_missing_tls_file_and_a_bad_key_expression_are_reported(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        source: {channel: {name: orders}}
        sinks:
          out:
            kafka:
              topic: orders
              key: "customer.(id"
              tls: {ca_file: certs/ca.pem}
        """,
    )
    assert [line.split(": ", 1)[0] for line in found] == ["a.yaml:6", "a.yaml:7"]
    assert "not a valid JSONata expression" in found[0]
    assert "file not found: certs/ca.pem" in found[1]


def test_a_password_by_reference_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_TEST_PASSWORD", "from-the-environment")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "a.yaml").write_text(
        "source: {kafka: {topics: [orders], group: erp,"
        " sasl: {username: splice, password: '${env:KAFKA_TEST_PASSWORD}'}}}\n"
        "sinks:\n  out: {channel: {name: orders}}\n"
    )
    project = load_project(tmp_path)
    assert "from-the-environment" not in repr(project.flows)


def test_validating_a_flow_does_not_import_aiokafka() -> None:
    code = (
        "import sys; from splice.components import registry;"
        "registry.get('sink', 'kafka').parse({'topic': 'orders', 'key': 'id'});"
        "registry.get('source', 'kafka').parse({'topics': ['o'], 'group': 'g'});"
        "assert 'aiokafka' not in sys.modules, 'aiokafka imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
