"""``http`` sink: send each message to a fixed URL and wait for a success status.

How an answer is classified::

    a status in ``success`` (default 2xx)          delivered
    408, 429, 500, 502, 503, 504                   TransientError(retry_after from Retry-After)
    any other status                               PermanentError(status), with a body excerpt
    timeout, connection refused or reset           TransientError

The URL is static configuration: no part of it comes from message data, so a message can
never steer the engine to another host. Message headers are not forwarded; only the
configured ``headers`` plus ``X-Message-Id`` and ``X-Correlation-Id`` are sent.
"""

from __future__ import annotations

import email.utils
import re
import time

import httpx
import orjson
from pydantic import Field, field_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import NotConnected, PermanentError, TransientError
from splice.message import Message
from splice.types import Duration

__all__ = ["SPEC", "TRANSIENT_STATUSES", "HttpSink", "HttpSinkConfig", "parse_retry_after"]

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_STATUS_RANGE = re.compile(r"^([1-5])xx$|^(\d{3})-(\d{3})$")
_EXCERPT_BYTES = 200


class HttpSinkConfig(ComponentConfig):
    url: str = Field(description="Endpoint to call, `http://` or `https://` (static).")
    method: str = Field("POST", description="HTTP method: POST, PUT, PATCH or DELETE.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent with every request."
    )
    timeout: Duration = Field(30.0, gt=0, description="Seconds to wait for the answer.")
    content_type: str | None = Field(
        None, description="Content type to send (default: the message's, or JSON for data)."
    )
    success: list[int | str] = Field(
        default_factory=lambda: list[int | str](["2xx"]),
        description="Statuses that mean delivered: codes (`201`), classes (`2xx`), ranges.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("the url must start with http:// or https://")
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        method = value.upper()
        if method not in {"POST", "PUT", "PATCH", "DELETE"}:
            raise ValueError("method must be one of DELETE, PATCH, POST, PUT")
        return method

    @field_validator("success")
    @classmethod
    def _success(cls, value: list[int | str]) -> list[int | str]:
        for entry in value:
            _statuses(entry)
        return value


SPEC = ComponentSpec(
    kind="sink",
    name="http",
    summary="Send each message to an HTTP endpoint; 2xx confirms delivery.",
    config=HttpSinkConfig,
    example="http: {url: 'https://erp.example.com/api/orders', headers: {x-api-key: secret}}",
    factory="splice.connectors.http.sink:HttpSink",
    shorthand="url",
    description=(
        "408, 429 and 5xx answers other than 501 are retried under the flow's policy, "
        "honouring `Retry-After`; other answers are permanent failures."
    ),
)


def _statuses(entry: int | str) -> range:
    if isinstance(entry, int):
        if not 100 <= entry <= 599:
            raise ValueError(f"{entry} is not an HTTP status")
        return range(entry, entry + 1)
    match = _STATUS_RANGE.match(entry.strip().lower())
    if match is None:
        raise ValueError(f"'{entry}' is not a status, a class like 2xx or a range like 200-299")
    if match.group(1):
        first = int(match.group(1)) * 100
        return range(first, first + 100)
    low, high = int(match.group(2)), int(match.group(3))
    if low > high:
        raise ValueError(f"'{entry}' is an empty range")
    return range(low, high + 1)


class HttpSink(Sink):
    def __init__(self, config: HttpSinkConfig, context: Context) -> None:
        self.config = config
        self._success = frozenset(code for entry in config.success for code in _statuses(entry))
        self._target = _safe_target(config.url)
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.config.timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def send(self, message: Message) -> None:
        if self._client is None:
            raise NotConnected(f"http sink to {self._target} is not open")
        body, content_type = self._encode(message)
        headers = {
            **self.config.headers,
            "x-message-id": message.id,
            "x-correlation-id": message.correlation_id,
        }
        if content_type is not None:
            headers["content-type"] = content_type
        try:
            request = self._client.build_request(
                self.config.method, self.config.url, content=body, headers=headers
            )
            response = await self._client.send(request, stream=True)
            try:
                await self._check(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"{self._target} did not answer within {self.config.timeout:g}s",
                code="http-timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"{self._target} unreachable: {type(exc).__name__}", code="http-connect"
            ) from exc

    def _encode(self, message: Message) -> tuple[bytes, str | None]:
        if message.is_encoded or isinstance(message.body, str):
            return message.body_bytes(), self.config.content_type or message.content_type
        return orjson.dumps(message.body), self.config.content_type or "application/json"

    async def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in self._success:
            await response.aread()  # so that the connection can be reused
            return
        if status in TRANSIENT_STATUSES:
            raise TransientError(
                f"{self._target} answered {status}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                code="http-status",
            )
        excerpt = await _excerpt(response)
        raise PermanentError(
            f"{self._target} answered {status}" + (f": {excerpt}" if excerpt else ""),
            status=status,
            code="http-status",
        )


async def _excerpt(response: httpx.Response) -> str:
    """The start of the body, printable characters only, without reading all of it."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _EXCERPT_BYTES:
            break
    text = data[:_EXCERPT_BYTES].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` value (seconds or an HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _safe_target(url: str) -> str:
    """``scheme://host[:port]/path`` of the URL: no credentials, no query, for messages."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
