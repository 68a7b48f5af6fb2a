"""The engine: every flow of a project, running in one process.

``Engine.start()`` builds each flow from its spec, opens all sinks and steps first, then
the sources (channel subscribers before anything else, so that no publisher finds its
channel empty). ``Engine.stop()`` drains every flow within the project's deadline and then
closes the shared resources (the HTTP server, the channel hub). ``Engine.apply(project)``
swaps changed flows without dropping a message: the new version starts (taking over its
HTTP route or channel subscription) before the old one is drained and closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from splice.components import registry
from splice.components.context import Context, SharedResources
from splice.components.interfaces import Sink, Step
from splice.config import ComponentRef, FlowSpec, Project
from splice.runtime.breaker import Breakers
from splice.runtime.flow import FlowRunner
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline
from splice.runtime.policies import merge_layers
from splice.runtime.retry import RetryingSink
from splice.runtime.timeouts import TimedStep
from splice.store import Store

__all__ = ["Engine", "build_flow", "guarded_step"]

log = logging.getLogger("splice.runtime")


def _build(ref: ComponentRef, context: Context) -> Any:
    return registry.get(ref.kind, ref.name).build(ref.config, context.at(ref.path))


def _endpoint(ref: ComponentRef, flow: str) -> str:
    """What a circuit breaker is keyed by: the receiving endpoint, shared across flows.

    A URL counts without its credentials, query or fragment (``https://erp:8443/orders``); a
    folder or a channel by its name. A sink with neither gets a breaker of its own.
    """
    config = ref.config
    url = getattr(config, "url", None)
    if isinstance(url, str):
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{ref.name}:{parts.scheme}://{host}{port}{parts.path}"
    for attribute in ("path", "name", "exchange", "queue", "subject", "stream", "table"):
        value = getattr(config, attribute, None)
        if isinstance(value, str):
            return f"{ref.name}:{attribute}={value}"
    return f"{ref.name}:{flow}.{ref.path}"


def _guarded_sink(spec: FlowSpec, ref: ComponentRef, context: Context) -> Sink:
    policy = merge_layers(
        context.settings.on_error,
        spec.on_error.policy,
        ref.on_error.policy if ref.on_error is not None else None,
    )
    breaker = None
    if policy.circuit_breaker is not None:
        breakers = context.shared.get("breakers", Breakers)
        breaker = breakers.get(_endpoint(ref, spec.name), policy.circuit_breaker)
    return RetryingSink(_build(ref, context), policy, breaker, name=ref.path)


def guarded_step(spec: FlowSpec, ref: ComponentRef, context: Context) -> Step:
    """Build one step of ``spec`` under the flow's step timeout."""
    policy = merge_layers(context.settings.on_error, spec.on_error.policy)
    step: Step = _build(ref, context)
    return TimedStep(step, policy.timeout) if policy.timeout else step


def build_flow(spec: FlowSpec, context: Context, store: Store | None = None) -> FlowRunner:
    """Instantiate a flow's components (nothing is opened yet), each under its error policy."""
    context = dataclasses.replace(context, max_in_flight=spec.max_in_flight)
    steps = [BoundStep(ref.path, guarded_step(spec, ref, context)) for ref in spec.steps]
    sinks = [
        BoundSink(name, ref.path, _guarded_sink(spec, ref, context))
        for name, ref in spec.sinks.items()
    ]
    return FlowRunner(
        name=spec.name,
        version=spec.version,
        source=_build(spec.source, context),
        source_path=spec.source.path,
        pipeline=Pipeline(spec.name, steps, sinks),
        max_in_flight=spec.max_in_flight,
        policy=merge_layers(context.settings.on_error, spec.on_error.policy),
        store=store,
    )


def _start_order(runner: FlowRunner, spec: FlowSpec) -> int:
    return 0 if spec.source.name == "channel" else 1


class Engine:
    """Runs a project's flows; see the module docstring for the lifecycle."""

    def __init__(self, project: Project, *, store: Store | None = None) -> None:
        self.project = project
        self.shared = SharedResources()
        self.flows: dict[str, FlowRunner] = {}
        self.store = store
        self._owns_store = store is None

    def context(self, flow: str, version: str = "") -> Context:
        return Context(
            self.project.dir,
            flow,
            self.project.settings,
            self.shared,
            store=self.store,
            version=version,
        )

    async def start(self) -> None:
        if self.store is None:
            self.store = await Store.open(self.project.settings.store, project_dir=self.project.dir)
        await self._seed_schemas()
        try:
            await self._start_flows(list(self.project.flows.values()))
        except BaseException:
            await self.stop()
            raise

    async def _seed_schemas(self) -> None:
        """Register the project's ``schemas/`` in the registry (new versions only)."""
        folder = self.project.dir / "schemas"
        if self.store is None or not folder.is_dir():
            return
        from splice.schemas import SchemaRegistry

        try:
            await SchemaRegistry(self.store.schemas).seed(folder)
        except Exception as error:  # a broken schema file must not stop the flows
            log.error("schemas/ not registered in the schema registry: %s", error)

    async def _start_flows(
        self, specs: list[FlowSpec], replacing: Collection[str] = ()
    ) -> dict[str, FlowRunner]:
        """Build, open and start ``specs``; those ``replacing`` a running version of the flow
        resume its journal only once their ``journal_gate`` is set (see :meth:`apply`)."""
        runners = {
            spec.name: build_flow(spec, self.context(spec.name, spec.version), self.store)
            for spec in specs
        }
        for name, runner in runners.items():
            if name in replacing:
                runner.journal_gate = asyncio.Event()
        for runner in runners.values():
            await runner.open_components()
        ordered = sorted(specs, key=lambda spec: _start_order(runners[spec.name], spec))
        for spec in ordered:
            await runners[spec.name].start_source()
            log.info("flow '%s' (version %s) started", spec.name, spec.version)
        self.flows.update(runners)
        return runners

    async def stop(self) -> None:
        deadline = self.project.settings.runtime.drain_timeout
        runners = list(self.flows.values())
        self.flows.clear()
        for runner in runners:
            await runner.close_source()
        await asyncio.gather(*(runner.stop(deadline) for runner in runners))
        await self._close_shared()
        if self.store is not None and self._owns_store:
            await self.store.close()
            self.store = None

    async def _close_shared(self) -> None:
        for resource in reversed(self.shared.values()):
            stop = getattr(resource, "stop", None) or getattr(resource, "close", None)
            if stop is None:
                continue
            try:
                result = stop()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("closing %s failed", type(resource).__name__)

    async def apply(self, project: Project) -> list[str]:
        """Switch to a new project state; returns a line per change made."""
        changes: list[str] = []
        old_specs = self.project.flows
        self.project = project
        changed = [
            spec
            for name, spec in project.flows.items()
            if name not in old_specs or old_specs[name].version != spec.version
        ]
        retired = [
            self.flows[name]
            for name in list(self.flows)
            if name not in project.flows or project.flows[name].version != self.flows[name].version
        ]
        try:
            started = await self._start_flows(changed, replacing=list(old_specs))
        except Exception:
            self.project = Project(project.dir, project.settings, old_specs, project.systems)
            raise
        for runner in retired:
            if self.flows.get(runner.name) is runner:
                del self.flows[runner.name]
        deadline = project.settings.runtime.drain_timeout
        await asyncio.gather(*(runner.stop(deadline) for runner in retired))
        for runner in started.values():  # what the old versions left unfinished runs now
            if runner.journal_gate is not None:
                runner.journal_gate.set()
        for spec in changed:
            verb = "reloaded" if spec.name in old_specs else "added"
            changes.append(f"flow '{spec.name}' {verb} (version {spec.version})")
        changes += [f"flow '{r.name}' removed" for r in retired if r.name not in project.flows]
        return changes
