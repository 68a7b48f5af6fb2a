"""What a component receives when it is built: where it lives and what it may share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from splice.settings import ProjectSettings

__all__ = ["Context", "SharedResources"]

T = TypeVar("T")


class SharedResources:
    """Engine-wide singletons (the HTTP server, the channel hub), created on first use."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def get(self, key: str, factory: Callable[[], T]) -> T:
        if key not in self._items:
            self._items[key] = factory()
        item: T = self._items[key]
        return item

    def peek(self, key: str) -> Any | None:
        return self._items.get(key)

    def values(self) -> list[Any]:
        return list(self._items.values())


@dataclass
class Context:
    """Passed to every component factory as ``(config, context)``."""

    project_dir: Path
    flow: str
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    shared: SharedResources = field(default_factory=SharedResources)
    component: str = ""
    """Where the component sits in its flow, e.g. ``steps[2].map`` or ``sinks.erp``."""
    store: Any = None
    """The engine's state store (:class:`splice.store.Store`), or None outside an engine."""
    version: str = ""
    """The version of the flow being built (a short hash of its file)."""
    max_in_flight: int | None = None
    """The flow's ``max_in_flight`` (None: the project's default, ``runtime.max_in_flight``)."""

    @property
    def flow_max_in_flight(self) -> int:
        """Messages of this flow in flight at once, as the runtime will allow."""
        return self.max_in_flight or self.settings.runtime.max_in_flight

    def resolve_path(self, path: str | Path) -> Path:
        """A path from a flow file, relative to the project folder."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.project_dir / candidate

    def at(self, component: str) -> Context:
        return Context(
            self.project_dir,
            self.flow,
            self.settings,
            self.shared,
            component,
            self.store,
            self.version,
            self.max_in_flight,
        )
