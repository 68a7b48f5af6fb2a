"""Internal channels: pub/sub topics between the flows of one engine.

``hub.py`` holds the engine-wide :class:`~splice.connectors.channel.hub.ChannelHub`;
``sink.py`` publishes and waits until every subscribing group processed the message;
``source.py`` subscribes a flow as (a member of) a group.
"""
