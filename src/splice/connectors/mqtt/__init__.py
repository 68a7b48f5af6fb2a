"""MQTT 3.1.1: a source that subscribes to topic filters with manual acknowledgements, and a
sink that publishes with QoS 0, 1 or 2. See ``docs/guides/mqtt.md``.

aiomqtt is imported only when a connection is opened, so importing this package is cheap.
"""

from __future__ import annotations

from splice.connectors.mqtt.sink import MqttSink, MqttSinkConfig
from splice.connectors.mqtt.source import MqttSource, MqttSourceConfig

__all__ = ["MqttSink", "MqttSinkConfig", "MqttSource", "MqttSourceConfig"]
