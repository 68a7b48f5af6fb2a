"""``http`` source: each request on a path becomes a message.

A request waits until the runtime pulls it (the runtime pulls only when the flow has room,
so a saturated flow makes callers wait rather than memory grow). With ``reply: sync`` the
caller then waits for the outcome: the last output of the flow as the reply body, or a
problem document (see :mod:`splice.connectors.http.problem`). With ``reply: accepted`` the
caller gets 202 and the message id as soon as the runtime has taken the message.

A request not taken within ``http.reply_timeout`` gets 503 (nothing was processed, a retry is
safe); one taken but not finished by then gets 504 (the runtime still owns the message).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Literal

import orjson
from pydantic import Field, field_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.http import problem
from splice.connectors.http.problem import Reply
from splice.connectors.http.server import HttpServer, Route, Scope
from splice.errors import SpliceError
from splice.message import Message

log = logging.getLogger(__name__)

__all__ = ["METHODS", "SPEC", "HttpSource", "HttpSourceConfig", "http_server"]

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class HttpSourceConfig(ComponentConfig):
    path: str = Field(description="Path to listen on, e.g. `/crm/orders` (starts with `/`).")
    method: str = Field("POST", description="HTTP method: GET, POST, PUT, PATCH or DELETE.")
    reply: Literal["sync", "accepted"] = Field(
        "sync",
        description="`sync`: answer with the flow's result; `accepted`: answer 202 at once.",
    )
    max_body_bytes: int | None = Field(
        None, ge=1, description="Largest accepted body (default: `http.max_body_bytes`)."
    )
    status: int = Field(200, ge=200, le=299, description="Status of a successful sync reply.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c in value for c in "?# \t"):
            raise ValueError("a path starts with '/' and has no query, fragment or spaces")
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        method = value.upper()
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(sorted(METHODS))}")
        return method


SPEC = ComponentSpec(
    kind="source",
    name="http",
    summary="Receive HTTP requests on a path of the engine's HTTP server.",
    config=HttpSourceConfig,
    example="http: {path: /crm/orders, method: POST, reply: accepted}",
    factory="splice.connectors.http.source:HttpSource",
    shorthand="path",
    description=(
        "Every HTTP source shares one server (`http` in `splice.yaml`). The message body is "
        "the raw request body; headers are lower-cased, plus `http.method`, `http.path` and "
        "`http.query`. An `X-Correlation-Id` request header becomes the correlation id; "
        "every reply carries `X-Message-Id`."
    ),
    scales_out=True,
)


def http_server(context: Context) -> HttpServer:
    """The engine's one HTTP server."""
    return context.shared.get("http.server", lambda: HttpServer(context.settings.http))


class _NotTaken(Exception):
    """The outcome of a sync request the runtime never took: 503, a retry is safe."""


_NOT_TAKEN = _NotTaken()


class _Request:
    """One request waiting to be pulled, then (sync) to be settled.

    ``pulled`` is True once the runtime took it, False if it never will (closed, expired);
    ``settled`` holds the outputs, the error, None when the reply timed out, or
    ``_NOT_TAKEN`` (with ``pulled`` False), so that a sync caller waits on it alone.
    ``accepted`` (reply: accepted only) is True once the message is journaled.
    """

    __slots__ = ("accepted", "delivery", "pulled", "settled")

    def __init__(self, message: Message, loop: asyncio.AbstractEventLoop, sync: bool) -> None:
        self.pulled: asyncio.Future[bool] = loop.create_future()
        self.settled: asyncio.Future[Sequence[Message] | BaseException | None]
        self.settled = loop.create_future()
        self.accepted: asyncio.Future[bool] | None = None
        # The delivery's callbacks hold the futures, not the request: no reference cycle,
        # so a request is freed as soon as it is answered rather than by the cyclic GC.
        if sync:
            settle = _settler(self.settled)
            self.delivery = Delivery(message, settle, settle, caller_waits=True)
        else:
            self.accepted = accepted = loop.create_future()

            async def accept() -> None:
                if not accepted.done():
                    accepted.set_result(True)

            async def refuse(error: BaseException) -> None:
                """Not journaled (the store is down): the caller is told to try again (503)."""
                if not accepted.done():
                    accepted.set_result(False)

            self.delivery = Delivery(message, nack=refuse, accept=accept)

    def refuse(self) -> None:
        """It will never be pulled (the source closed, the reply timed out): 503."""
        self.pulled.set_result(False)
        if not self.settled.done():
            self.settled.set_result(_NOT_TAKEN)

    def expire(self) -> None:
        """Reply timeout: not pulled yet -> 503 (never processed); pulled -> 504."""
        if not self.pulled.done():
            self.refuse()
        elif not self.settled.done():
            self.settled.set_result(None)
        if self.accepted is not None and not self.accepted.done():
            self.accepted.set_result(False)


def _settler(
    settled: asyncio.Future[Sequence[Message] | BaseException | None],
) -> Callable[[Sequence[Message] | BaseException], Awaitable[None]]:
    """The ack and the nack of a sync request: the outputs or the error settle it."""

    async def settle(outcome: Sequence[Message] | BaseException) -> None:
        if not settled.done():
            settled.set_result(outcome)

    return settle


class HttpSource(Source):
    def __init__(self, config: HttpSourceConfig, context: Context) -> None:
        self.config = config
        self._flow = context.flow
        self._server = http_server(context)
        self._timeout = context.settings.http.reply_timeout
        self._sync = config.reply == "sync"
        self._waiting: deque[_Request] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._route: Route | None = None
        self._closed = False
        self.offer: Callable[[Delivery], Awaitable[bool]] | None = None
        """Set by the runtime: processes a delivery at once when the flow can (see
        ``FlowRunner.offer``); a request goes to the queue the runtime pulls from otherwise."""

    @property
    def server(self) -> HttpServer:
        return self._server

    async def open(self) -> None:
        self._closed = False
        self._route = self._server.register(
            self.config.method,
            self.config.path,
            self._handle,
            owner=self._flow,
            max_body_bytes=self.config.max_body_bytes,
            endpoint=self,
        )
        try:
            await self._server.start()
        except BaseException:
            await self.close()
            raise

    async def deliveries(self) -> AsyncIterator[Delivery]:
        loop = asyncio.get_running_loop()
        while True:
            while self._waiting:
                request = self._waiting.popleft()
                if not request.pulled.done():
                    request.pulled.set_result(True)
                    yield request.delivery
            if self._closed:
                return
            self._wakeup = loop.create_future()
            await self._wakeup

    async def close(self) -> None:
        """Stop taking requests; hand the unpulled ones to a successor, else answer 503."""
        self._closed = True
        route, self._route = self._route, None
        successor = self._server.release(route) if route is not None else None
        heir = successor.endpoint if successor is not None else None
        waiting, self._waiting = self._waiting, deque()
        for request in waiting:
            if isinstance(heir, HttpSource) and not heir._closed:
                heir._enqueue(request)
            elif not request.pulled.done():
                request.refuse()
        self._wake()

    # -- the request side ----------------------------------------------------------------

    def _enqueue(self, request: _Request) -> None:
        self._waiting.append(request)
        self._wake()

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _handle(self, scope: Scope, headers: dict[str, str], body: bytes) -> Reply:
        if self._closed:
            return problem.unavailable()
        loop = asyncio.get_running_loop()
        message = _message(scope, headers, body)
        request = _Request(message, loop, self._sync)
        if (
            self._sync
            and not self._waiting
            and self.offer is not None
            and await self.offer(request.delivery)
        ):
            request.pulled.set_result(True)
            if request.settled.done():  # settled by the offer, unless a failure is being settled
                reply = await self._reply(request)
                return self._identified(reply, message)
        else:
            self._enqueue(request)
        timer = loop.call_later(self._timeout, request.expire)
        try:
            reply = await self._reply(request)
        finally:
            timer.cancel()
        return self._identified(reply, message)

    @staticmethod
    def _identified(reply: Reply, message: Message) -> Reply:
        """The reply naming the message it answers (x-message-id, x-correlation-id)."""
        reply.headers += (
            (b"x-message-id", message.id.encode()),
            (b"x-correlation-id", message.correlation_id.encode()),
        )
        return reply

    async def _reply(self, request: _Request) -> Reply:
        if self._sync:  # one wait: settled also says when the request was never taken
            outcome = await request.settled
            if outcome is _NOT_TAKEN:
                return problem.unavailable()
            if outcome is None:
                return problem.reply_timeout(self._timeout)
            return _outcome(outcome, self.config.status)
        if not await request.pulled:
            return problem.unavailable()
        assert request.accepted is not None
        if not await request.accepted:
            if request.pulled.done() and not request.settled.done():
                return problem.unavailable()
            return problem.reply_timeout(self._timeout)
        body = orjson.dumps({"id": request.delivery.message.id})
        return Reply(202, body, "application/json")


def _message(scope: Scope, headers: dict[str, str], body: bytes) -> Message:
    content_type = headers.get("content-type")
    correlation_id = headers.get("x-correlation-id", "")
    headers["http.method"] = scope["method"]
    headers["http.path"] = scope["path"]
    headers["http.query"] = scope["query_string"].decode("latin-1")
    return Message(body, headers, content_type, correlation_id=correlation_id)


def _outcome(outcome: Sequence[Message] | BaseException, status: int) -> Reply:
    if isinstance(outcome, BaseException):
        if not isinstance(outcome, SpliceError):
            log.error("flow failed on an HTTP request", exc_info=outcome)
        return problem.from_error(outcome)
    if not outcome:
        return Reply(204)
    last = outcome[-1]
    if last.is_encoded:
        return Reply(status, last.body_bytes(), last.content_type or "application/octet-stream")
    try:
        return Reply(status, orjson.dumps(last.body), "application/json")
    except orjson.JSONEncodeError:
        log.exception("the reply of message %s cannot be encoded as JSON", last.id)
        return problem.internal()
