"""The one registry of sources, sinks, steps and codecs.

Components are found through a lazy table of ``name -> module``: the module is imported
only when a flow (or ``splice docs``) needs the component, and its ``SPEC`` attribute is the
component's declaration. Third-party components register the same way through the
``splice.components`` entry-point group, with names of the form ``kind.name``.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from importlib.metadata import entry_points

from splice.components.spec import ComponentSpec, Kind
from splice.errors import SpliceError

__all__ = ["KINDS", "UnknownComponent", "all_specs", "get", "names", "suggest"]

KINDS: tuple[Kind, ...] = ("source", "sink", "step", "codec")

_BUILTIN: dict[Kind, dict[str, str]] = {
    "source": {
        "amqp": "splice.connectors.amqp.source",
        "channel": "splice.connectors.channel.source",
        "file": "splice.connectors.file.source",
        "http": "splice.connectors.http.source",
        "imap": "splice.connectors.email.imap",
        "kafka": "splice.connectors.kafka.source",
        "mqtt": "splice.connectors.mqtt.source",
        "nats": "splice.connectors.nats.source",
        "redis": "splice.connectors.redis.source",
        "soap": "splice.connectors.soap.source",
        "sftp": "splice.connectors.sftp.source",
        "sql": "splice.connectors.sql.source",
        "timer": "splice.connectors.timer.source",
    },
    "sink": {
        "amqp": "splice.connectors.amqp.sink",
        "channel": "splice.connectors.channel.sink",
        "email": "splice.connectors.email.sink",
        "file": "splice.connectors.file.sink",
        "http": "splice.connectors.http.sink",
        "kafka": "splice.connectors.kafka.sink",
        "mqtt": "splice.connectors.mqtt.sink",
        "nats": "splice.connectors.nats.sink",
        "redis": "splice.connectors.redis.sink",
        "soap": "splice.connectors.soap.sink",
        "sftp": "splice.connectors.sftp.sink",
        "sql": "splice.connectors.sql.sink",
    },
    "step": {
        "aggregate": "splice.steps.aggregate",
        "decode": "splice.steps.decode",
        "dedupe": "splice.steps.dedupe",
        "encode": "splice.steps.encode",
        "enrich": "splice.steps.enrich",
        "filter": "splice.steps.filter",
        "log": "splice.steps.log",
        "map": "splice.steps.map",
        "multicast": "splice.steps.multicast",
        "remove": "splice.steps.headers",
        "route": "splice.steps.route",
        "set": "splice.steps.set",
        "split": "splice.steps.split",
        "throttle": "splice.steps.throttle",
        "validate": "splice.steps.validate",
        "wiretap": "splice.steps.wiretap",
        "x12_ack": "splice.steps.acknowledge",
    },
    "codec": {
        "avro": "splice.codecs.avro",
        "csv": "splice.codecs.csv",
        "edifact": "splice.codecs.edifact.codec",
        "fixed": "splice.codecs.fixed.codec",
        "json": "splice.codecs.json",
        "jsonl": "splice.codecs.jsonl",
        "text": "splice.codecs.text",
        "x12": "splice.codecs.x12.codec",
        "xml": "splice.codecs.xml",
        "yaml": "splice.codecs.yaml",
    },
}

_loaded: dict[tuple[Kind, str], ComponentSpec] = {}
_plugins: dict[Kind, dict[str, str]] | None = None


class UnknownComponent(SpliceError):
    code = "unknown-component"


def _plugin_table() -> dict[Kind, dict[str, str]]:
    global _plugins
    if _plugins is None:
        _plugins = {kind: {} for kind in KINDS}
        for entry in entry_points(group="splice.components"):
            kind, _, name = entry.name.partition(".")
            if kind in _plugins and name:
                _plugins[kind][name] = entry.value
    return _plugins


def _table(kind: Kind) -> dict[str, str]:
    return {**_BUILTIN[kind], **_plugin_table()[kind]}


def names(kind: Kind) -> list[str]:
    """Every registered name of this kind, sorted."""
    return sorted(_table(kind))


def suggest(word: str, candidates: list[str]) -> str:
    """`` — did you mean 'x'?`` or the list of valid names."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return f" — did you mean '{close[0]}'?"
    return f" (valid: {', '.join(candidates)})"


def get(kind: Kind, name: str) -> ComponentSpec:
    """The spec of a component; UnknownComponent with a suggestion when there is none."""
    key = (kind, name)
    if key in _loaded:
        return _loaded[key]
    table = _table(kind)
    if name not in table:
        raise UnknownComponent(f"unknown {kind} '{name}'{suggest(name, sorted(table))}")
    module_name, _, attribute = table[name].partition(":")
    spec = getattr(importlib.import_module(module_name), attribute or "SPEC")
    if not isinstance(spec, ComponentSpec) or spec.kind != kind or spec.name != name:
        raise UnknownComponent(f"{table[name]} does not declare the {kind} '{name}'")
    _loaded[key] = spec
    return spec


def all_specs() -> Iterator[ComponentSpec]:
    """Every component, kind by kind, name by name (imports them all)."""
    for kind in KINDS:
        for name in names(kind):
            yield get(kind, name)
