"""The one HTTP server of an engine, shared by every HTTP source of every flow.

Sources register a route ``(method, path) -> handler`` and get the :class:`Route` back. A
later registration of the same route by the same flow replaces it at once (a reload: the
new version takes the route before the old one is drained); the old version unregistering
afterwards leaves the new route in place. A route of another flow is never taken over.

The server is a plain ASGI callable served by uvicorn in the engine's event loop, each
connection's writes batched to one send per turn of the loop (:mod:`.batched`). It starts
when the first source opens and stops when the last route is released (or on ``stop()``).
It answers by itself: ``GET /healthz``, 404 for an unknown path, 405 with ``Allow`` for a
wrong method, and 413 for a body over the limit, checked against ``Content-Length`` first
and again while the body streams in, so an oversized body is never read whole.

Under ``splice run --workers N`` the parent process reserves the port (bound with
``SO_REUSEPORT``, not listening; the port in ``SPLICE_HTTP_PORT``) and each worker listens on
it with a socket of its own and ``SO_REUSEPORT``: the kernel spreads new connections over the
workers by their addresses, so that a client's few long-lived connections do not all land on
whichever worker woke first. ``GET /healthz`` then also names the worker that answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn

from splice.connectors.http import problem
from splice.connectors.http.batched import batched_protocol
from splice.connectors.http.problem import Reply
from splice.errors import ConnectorError, NotConnected
from splice.settings import HttpSettings

__all__ = [
    "RESERVED_PORT",
    "WORKER",
    "Handler",
    "HttpServer",
    "Route",
    "RouteConflict",
    "listen",
    "reserve",
]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Handler = Callable[[Scope, dict[str, str], bytes], Awaitable[Reply]]
"""``(scope, headers, body) -> Reply``: what a source does with one request.

``headers`` are the request headers, names lower-cased, repeated ones joined with ``, ``;
the handler may keep (and add to) the dict.
"""

RESERVED_PORT = "SPLICE_HTTP_PORT"
"""Environment variable: the port a ``splice run --workers`` parent reserved for its workers."""
WORKER = "SPLICE_WORKER"
"""Environment variable: ``index/count`` of a worker process of ``splice run --workers``."""

_NO_BODY = frozenset({204, 304})


def _healthy() -> Reply:
    worker = os.environ.get(WORKER)
    if not worker:
        return Reply(200, b'{"status":"ok"}', "application/json")
    index = worker.partition("/")[0]
    body = f'{{"status":"ok","worker":{int(index)},"pid":{os.getpid()}}}'
    return Reply(200, body.encode(), "application/json")


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server(
            (host, port), family=family, backlog=2048, reuse_port=reuse_port
        )
    except OSError as exc:
        raise NotConnected(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def reserve(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` that does not listen: it holds
    the port (port 0: a free one) for sockets that :func:`listen` with ``reuse_port``; the
    kernel hands connections only to those.

    The port is first bound plainly, so that a port another process holds (another
    ``splice run --workers`` reservation included) is refused rather than shared."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    held = socket.socket(family, socket.SOCK_STREAM)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is free
            probe.bind((host, port))
            port = probe.getsockname()[1]
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind((host, port))
    except OSError as exc:
        held.close()
        raise NotConnected(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return held


class RouteConflict(ConnectorError):
    """Another flow already listens on this method and path."""

    code = "http-route-conflict"


@dataclass(eq=False, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    max_body_bytes: int
    owner: str
    endpoint: object = None
    """The object behind the handler (the source), so that a successor can be found."""


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers: shutdown belongs to the engine."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """Routes requests to sources. ``port`` is the bound port once started."""

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self.port = settings.port
        self._routes: dict[str, dict[str, Route]] = {}
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- route table ---------------------------------------------------------------------

    def register(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        owner: str,
        max_body_bytes: int | None = None,
        endpoint: object = None,
    ) -> Route:
        """Serve ``method path`` with ``handler``, replacing the same flow's earlier route."""
        methods = self._routes.setdefault(path, {})
        current = methods.get(method)
        if current is not None and current.owner != owner:
            raise RouteConflict(f"{method} {path} is already served by flow '{current.owner}'")
        limit = max_body_bytes or self.settings.max_body_bytes
        route = Route(method, path, handler, limit, owner, endpoint)
        methods[method] = route
        return route

    def release(self, route: Route) -> Route | None:
        """Unregister ``route`` unless replaced; stop when no route is left.

        Returns the route that now serves the same method and path, if any.
        """
        methods = self._routes.get(route.path, {})
        current = methods.get(route.method)
        if current is route:
            del methods[route.method]
            if not methods:
                del self._routes[route.path]
            current = None
        if not self._routes:
            self._stop_soon()
        return current

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Bind and serve (once); return when the server accepts connections."""
        async with self._lock:
            if self.running and self._server is not None and not self._server.should_exit:
                return
            await self._wait_stopped()
            sock = self._bind()
            self.port = sock.getsockname()[1]
            server = _Uvicorn(self._config())
            self._server = server
            self._task = asyncio.create_task(server.serve([sock]), name="splice-http-server")
            while not server.started:
                if self._task.done():
                    await self._wait_stopped()
                    raise NotConnected("the HTTP server failed to start")
                await asyncio.sleep(0.002)

    async def stop(self) -> None:
        """Stop accepting, let in-flight replies finish, and return when stopped."""
        async with self._lock:
            self._stop_soon()
            await self._wait_stopped()

    def _stop_soon(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    async def _wait_stopped(self) -> None:
        task, self._task, self._server = self._task, None, None
        if task is None:
            return
        try:
            await task
        except Exception:
            log.exception("the HTTP server failed")

    def _bind(self) -> socket.socket:
        if not os.environ.get(WORKER):
            return listen(self.settings.host, self.settings.port)
        reserved = os.environ.get(RESERVED_PORT)
        port = int(reserved) if reserved else self.settings.port
        return listen(self.settings.host, port, reuse_port=True)

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self,
            lifespan="off",
            interface="asgi3",
            http=batched_protocol(asyncio.get_running_loop()),
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=int(self.settings.reply_timeout) + 1,
        )

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        reply: Reply | None
        methods = self._routes.get(scope["path"])
        if methods is None:
            reply = _builtin(scope)
        elif (route := methods.get(scope["method"])) is None:
            reply = problem.method_not_allowed(list(methods))
        else:
            reply = await _dispatch(route, scope, receive)
        if reply is not None:
            await _send(send, reply)


def _builtin(scope: Scope) -> Reply:
    if scope["path"] == "/healthz":
        return _healthy() if scope["method"] == "GET" else problem.method_not_allowed(["GET"])
    return problem.not_found()


async def _dispatch(route: Route, scope: Scope, receive: Receive) -> Reply | None:
    """Read the body within the route's limit and call its handler; None if the client left."""
    limit = route.max_body_bytes
    headers = _headers(scope)
    if _declared_length(headers) > limit:
        return problem.too_large(limit)
    try:
        body = await _read_body(receive, limit)
    except _Disconnected:
        return None
    if body is None:
        return problem.too_large(limit)
    try:
        return await route.handler(scope, headers, body)
    except Exception:
        log.exception("HTTP source for %s %s failed", route.method, route.path)
        return problem.internal()


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _declared_length(headers: dict[str, str]) -> int:
    try:
        return int(headers.get("content-length") or 0)
    except ValueError:  # the protocol layer refuses these; be safe anyway
        return 0


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            raise _Disconnected
        chunk: bytes = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        if not event.get("more_body", False):
            if not chunks:
                return chunk
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


async def _send(send: Send, reply: Reply) -> None:
    headers = [(b"content-type", reply.content_type.encode())] if reply.content_type else []
    if reply.status not in _NO_BODY:
        headers.append((b"content-length", str(len(reply.body)).encode()))
    headers += reply.headers
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})
