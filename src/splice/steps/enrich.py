"""``enrich``: the content enricher. Look data up elsewhere and merge it into the body.

Three kinds of lookup, one per step: a project lookup ``table`` (``lookups:`` in
splice.yaml), an ``http`` GET to a fixed URL, or a ``sql`` query. Message data reaches the
other side only as values: HTTP query parameters (``query:``, JSONata per parameter; the
URL itself is never built from message data) or SQL bound parameters (``params:``; the
query text is fixed). The result is merged with ``merge`` (JSONata, ``$`` the body and
``$enrichment`` the result) or, by default, set under the field ``into``.

Failures follow the flow's error policy: unreachable services, timeouts, HTTP 408/429/5xx
and lost database connections raise TransientError; other HTTP errors and SQL errors
PermanentError.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError, PermanentError, TransientError
from splice.mapping import UNDEFINED, LookupTables, Mapping, compile_mapping
from splice.message import Message
from splice.steps.filter import decoded
from splice.types import Duration

__all__ = ["SPEC", "EnrichConfig", "EnrichStep"]


class TableLookup(ComponentConfig):
    table: str = Field(description="A lookup table of the project (`lookups:` in splice.yaml).")
    key: str = Field(description="JSONata on the body giving the key.")


class HttpLookup(ComponentConfig):
    url: str = Field(description="Fixed http(s) URL; message data goes only in `query`.")
    method: Literal["GET"] = Field("GET", description="HTTP method.")
    query: dict[str, str] = Field(
        default_factory=dict, description="Query parameter -> JSONata on the body."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Fixed request headers.")
    timeout: Duration = Field(10.0, gt=0, description="Seconds for the whole request.")

    @model_validator(mode="after")
    def _fixed_url(self) -> HttpLookup:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must be a fixed http:// or https:// URL")
        return self


class SqlLookup(ComponentConfig):
    url: str = Field(description="SQLAlchemy async URL, e.g. `${env:CRM_DB}`.")
    query: str = Field(description="SQL with named bound parameters (`where id = :id`).")
    params: dict[str, str] = Field(
        default_factory=dict, description="Parameter -> JSONata on the body (bound, never inlined)."
    )
    result: Literal["one", "all"] = Field("one", description="First row (or null), or all rows.")

    @model_validator(mode="after")
    def _params_match(self) -> SqlLookup:
        from sqlalchemy import text

        names = set(text(self.query).compile().params)
        if names != set(self.params):
            raise ValueError(f"query parameters {sorted(names)} need exactly those `params`")
        return self


class EnrichConfig(ComponentConfig):
    lookup: TableLookup | None = Field(None, description="Look up a project table.")
    http: HttpLookup | None = Field(None, description="Call an HTTP endpoint.")
    sql: SqlLookup | None = Field(None, description="Run a SQL query.")
    merge: str | None = Field(
        None, description="JSONata merging: `$` is the body, `$enrichment` the result."
    )
    into: str = Field("enrichment", description="Field set to the result when no `merge`.")

    @model_validator(mode="after")
    def _one_lookup(self) -> EnrichConfig:
        if sum(x is not None for x in (self.lookup, self.http, self.sql)) != 1:
            raise ValueError("give exactly one of 'lookup', 'http' and 'sql'")
        return self


SPEC = ComponentSpec(
    kind="step",
    name="enrich",
    summary="Content enricher: merge a lookup table, HTTP or SQL result into the body.",
    config=EnrichConfig,
    example=(
        "enrich:\n"
        "  http: {url: https://crm.example.com/customers, query: {id: customerId}}\n"
        "  into: customer"
    ),
    factory="splice.steps.enrich:EnrichStep",
    description="Message data is sent only as query or bound SQL parameters, never in a URL.",
)


class EnrichStep(Step):
    def __init__(self, config: EnrichConfig, context: Context) -> None:
        self._config = config
        self._merge = compile_mapping(config.merge) if config.merge else None
        self._expressions: dict[str, Mapping] = {}
        if config.lookup is not None:
            settings = context.settings
            self._tables = context.shared.get(
                "mapping.lookups", lambda: LookupTables.load(context.project_dir, settings.lookups)
            )
            self._expressions["key"] = compile_mapping(config.lookup.key)
        values = (config.http.query if config.http else {}) | (
            config.sql.params if config.sql else {}
        )
        self._expressions |= {name: compile_mapping(expr) for name, expr in values.items()}
        self._client: Any = None
        self._engine: Any = None

    async def open(self) -> None:
        if self._config.http is not None and self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=self._config.http.timeout)
        if self._config.sql is not None and self._engine is None:
            from sqlalchemy.ext.asyncio import create_async_engine

            self._engine = create_async_engine(self._config.sql.url)

    async def process(self, message: Message) -> list[Message]:
        body = decoded(message, "enrich")
        values = {
            n: m.evaluate(body, headers=message.headers) for n, m in self._expressions.items()
        }
        values = {n: None if v is UNDEFINED else v for n, v in values.items()}
        await self.open()
        result = await self._fetch(values)
        return [message.replace_body(self._merged(body, result), message.content_type)]

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def _fetch(self, values: dict[str, Any]) -> Any:
        if self._config.lookup is not None:
            return self._tables.get(self._config.lookup.table, values["key"])
        if self._config.http is not None:
            return await self._http(values)
        return await self._sql(values)

    async def _http(self, values: dict[str, Any]) -> Any:
        import httpx

        http = self._config.http
        assert http is not None
        params = {name: str(value) for name, value in values.items() if value is not None}
        try:
            response = await self._client.get(http.url, params=params, headers=http.headers)
        except httpx.HTTPError as error:
            raise TransientError(f"enrich: {http.url} unreachable: {error}") from error
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise TransientError(f"enrich: {http.url} answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(
                f"enrich: {http.url} answered {response.status_code}", status=response.status_code
            )
        try:
            return response.json()
        except ValueError:
            return response.text

    async def _sql(self, values: dict[str, Any]) -> Any:
        from sqlalchemy import exc, text

        sql = self._config.sql
        assert sql is not None
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(text(sql.query), values)).mappings().all()
        except (exc.OperationalError, exc.InterfaceError, OSError) as error:
            raise TransientError(f"enrich: database unavailable: {error}") from error
        except exc.SQLAlchemyError as error:
            raise PermanentError(f"enrich: query failed: {error}") from error
        records = [dict(row) for row in rows]
        return records if sql.result == "all" else (records[0] if records else None)

    def _merged(self, body: Any, result: Any) -> Any:
        if self._merge is not None:
            return self._merge.evaluate(body, bindings={"enrichment": result})
        if not isinstance(body, dict):
            raise MessageError("enrich without `merge` needs an object body", code="enrich-merge")
        return body | {self._config.into: result}


def _value(value: Any) -> Any:
    return None if value is UNDEFINED else value
