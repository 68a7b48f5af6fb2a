"""The public extension API: contracts, specs and the registry."""

from splice.components.context import Context, SharedResources
from splice.components.interfaces import Delivery, Sink, Source, Step
from splice.components.spec import ComponentConfig, ComponentSpec, Kind

__all__ = [
    "ComponentConfig",
    "ComponentSpec",
    "Context",
    "Delivery",
    "Kind",
    "SharedResources",
    "Sink",
    "Source",
    "Step",
]
