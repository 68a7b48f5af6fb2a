"""The ``on_error:`` models: validation, layering (project <- flow <- sink), schema."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from splice.runtime.policies import BreakerPolicy, Classify, OnError, RetryPolicy, merge_layers

FULL_BLOCK: dict[str, Any] = {
    "retry": {
        "attempts": 5,
        "backoff": "exponential",
        "initial": "1s",
        "max": "1m",
        "jitter": "full",
        "max_elapsed": "10m",
    },
    "timeout": "30s",
    "circuit_breaker": {
        "failures": 5,
        "window": "60s",
        "reset_after": "30s",
        "half_open_probes": 1,
    },
    "dead_letter": True,
    "classify": {"transient": [409, "erp-locked"], "permanent": ["quota-exceeded"]},
    "quarantine_after": 5,
}


def test_the_full_block_validates_with_durations_in_seconds() -> None:
    policy = OnError.model_validate(FULL_BLOCK)

    assert policy.retry == RetryPolicy(
        attempts=5, backoff="exponential", initial=1, max=60, jitter="full", max_elapsed=600
    )
    assert policy.timeout == 30.0
    assert policy.circuit_breaker == BreakerPolicy(
        failures=5, window=60, reset_after=30, half_open_probes=1
    )
    assert policy.classify.transient == [409, "erp-locked"]


def test_the_defaults_are_the_documented_ones() -> None:
    assert OnError().model_dump() == OnError.model_validate(FULL_BLOCK).model_dump() | {
        "classify": {"transient": [], "permanent": []}
    }


@pytest.mark.parametrize(("written", "meant"), [(True, "full"), (False, "none")])
def test_jitter_may_be_written_as_a_boolean(written: bool, meant: str) -> None:
    assert RetryPolicy.model_validate({"jitter": written}).jitter == meant


@pytest.mark.parametrize(
    ("block", "where"),
    [
        ({"retry": {"atempts": 3}}, ("retry", "atempts")),
        ({"retry": {"attempts": 0}}, ("retry", "attempts")),
        ({"retry": {"backoff": "linear"}}, ("retry", "backoff")),
        ({"timeout": "soon"}, ("timeout",)),
        ({"circuit_breaker": {"failures": 0}}, ("circuit_breaker", "failures")),
        ({"quarantine_after": 0}, ("quarantine_after",)),
        ({"dead_letters": True}, ("dead_letters",)),
    ],
)
def test_a_wrong_key_or_value_is_refused_with_its_path(
    block: dict[str, Any], where: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as raised:
        OnError.model_validate(block)

    assert raised.value.errors()[0]["loc"] == where


def test_a_code_cannot_be_both_transient_and_permanent() -> None:
    with pytest.raises(ValidationError, match="both transient and permanent: 409"):
        Classify.model_validate({"transient": [409], "permanent": ["409"]})


def test_a_sink_overrides_only_the_keys_it_writes() -> None:
    project = OnError.model_validate({"timeout": "10s", "retry": {"attempts": 8, "max": "2m"}})
    flow = OnError.model_validate({"retry": {"initial": "2s"}, "dead_letter": False})
    sink = OnError.model_validate({"retry": {"attempts": 3}, "circuit_breaker": {"failures": 2}})

    policy = merge_layers(project, flow, sink)

    assert policy.timeout == 10.0
    assert policy.dead_letter is False
    assert (policy.retry.attempts, policy.retry.initial, policy.retry.max) == (3, 2.0, 120.0)
    assert policy.circuit_breaker == BreakerPolicy(failures=2)


def test_merged_with_none_is_unchanged_and_null_switches_a_policy_off() -> None:
    flow = OnError.model_validate({"timeout": "5s"})
    sink = OnError.model_validate({"timeout": None, "circuit_breaker": None})

    assert flow.merged(None) is flow
    policy = flow.merged(sink)
    assert policy.timeout is None
    assert policy.circuit_breaker is None


def test_a_later_layer_wins_for_every_code_it_classifies() -> None:
    flow = Classify(transient=[409, "erp-locked"], permanent=["quota-exceeded"])
    sink = Classify(transient=["quota-exceeded"], permanent=[409])

    merged = flow.merged(sink)

    assert merged == Classify(transient=["erp-locked", "quota-exceeded"], permanent=[409])


@pytest.mark.parametrize(
    "model", [OnError, RetryPolicy, BreakerPolicy, Classify], ids=lambda m: m.__name__
)
def test_every_field_is_described(model: type[BaseModel]) -> None:
    assert all(field.description for field in model.model_fields.values())


def test_the_json_schema_names_every_key_of_the_block() -> None:
    schema = OnError.model_json_schema()

    assert set(schema["properties"]) == set(FULL_BLOCK)
    assert schema["additionalProperties"] is False
