"""What every HTTP client gets, whatever the endpoint: CORS, HEAD, OPTIONS and gzip.

- **CORS** (:func:`install`): every endpoint is read-only public data, so any origin may read it by
  default (``--cors-origins`` / ``BUDGETKG_CORS_ORIGINS`` narrows or disables it); the SPARQL result
  headers are exposed, so that a browser client (YASGUI …) can see a cut result.
- **HEAD** (:class:`HeadAndOptions`): answered as the GET of the same URL would be, without its body
  (same status and headers, ``Content-Length`` included).
- **OPTIONS**: ``204`` with ``Allow`` listing the methods of the path (CORS preflights are answered
  by the CORS layer, outside this one).
- **gzip** (:class:`Gzip`): responses of a compressible type when the client accepts it; a whole
  body above :data:`THREAD_BYTES` is compressed on a worker thread, so that a 10,000-row result
  never holds the event loop; streamed bodies are compressed chunk by chunk.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: bodies smaller than this are sent as they are (compression would not pay)
GZIP_MIN_BYTES = 1024
#: bodies larger than this are compressed off the event loop
THREAD_BYTES = 64 * 1024
#: zlib level: 6 compresses SPARQL JSON nearly as well as 9 at half the CPU
GZIP_LEVEL = 6
#: how long a browser may reuse a preflight answer (seconds)
PREFLIGHT_MAX_AGE = 600
#: headers a cross-origin script may read
EXPOSED_HEADERS = ["X-Budgetkg-Truncated", "X-Budgetkg-Rows", "X-Budgetkg-Result-Cap", "X-Budgetkg-Query-Seconds",
                   "Link", "Retry-After", "Content-Disposition"]
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml", "application/ld+json",
                "application/n-triples", "application/rdf+xml", "application/sparql-results+", "image/svg+xml")


def install(app, cors_origins: Iterable[str]) -> None:
    """Add the layers, outermost first: CORS, HEAD/OPTIONS, gzip."""
    app.add_middleware(Gzip)
    app.add_middleware(HeadAndOptions)
    origins = [o for o in cors_origins if o]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                           allow_headers=["*"], expose_headers=EXPOSED_HEADERS, max_age=PREFLIGHT_MAX_AGE)


#: methods a route may answer, asked of each route in turn (routers wrap routes, so their ``methods``
#: attribute cannot be relied on)
CANDIDATE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope: Scope) -> list[str] | None:
    """The methods the app answers on this path, or None when no route has the path."""
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", [])
    methods = {m for route in routes for m in (("GET",) if isinstance(route, Mount) else CANDIDATE_METHODS)
               if route.matches({**scope, "method": m})[0] == Match.FULL}  # a mount (static files) matches any method
    if not methods:
        return None
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"})


class HeadAndOptions:
    """HEAD as a bodiless GET; OPTIONS answered with the path's methods."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(scope)
            if allowed is None:
                await self.app(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", ", ".join(allowed).encode("latin-1")), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class Gzip:
    """gzip for clients that accept it (see the module docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "gzip" not in Headers(scope=scope).get("accept-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        responder = _GzipResponder(send)
        await self.app(scope, receive, responder)


class _GzipResponder:
    """Holds the response start until the first body part shows whether compression pays."""

    def __init__(self, send: Send):
        self.send = send
        self.start: Message | None = None
        self.compressor = None  # set while a streamed body is being compressed
        self.passthrough = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            headers = Headers(raw=message["headers"])
            media = headers.get("content-type", "").lower()
            self.passthrough = "content-encoding" in headers or not media.startswith(COMPRESSIBLE)
            return
        if message["type"] == "http.response.body" and self.compressor is not None:
            await self.body_part(message)
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)  # not a body, or the rest of a body sent as it is
            return
        start, self.start = self.start, None
        body, more = message.get("body", b""), message.get("more_body", False)
        if self.passthrough or (not more and len(body) < GZIP_MIN_BYTES):
            await self.send(start)
            await self.send(message)
            self.passthrough = True
            return
        headers = MutableHeaders(raw=start["headers"])
        headers["Content-Encoding"] = "gzip"
        headers.add_vary_header("Accept-Encoding")
        if not more:
            packed = (await anyio.to_thread.run_sync(_gzip, body) if len(body) > THREAD_BYTES else _gzip(body))
            headers["Content-Length"] = str(len(packed))
            await self.send(start)
            await self.send({"type": "http.response.body", "body": packed})
            return
        del headers["Content-Length"]
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        await self.send(start)
        await self.send({"type": "http.response.body", "body": self.compressor.compress(body), "more_body": True})

    async def body_part(self, message: Message) -> None:
        body, more = message.get("body", b""), message.get("more_body", False)
        data = self.compressor.compress(body) + (b"" if more else self.compressor.flush())
        await self.send({"type": "http.response.body", "body": data, "more_body": more})


def _gzip(body: bytes) -> bytes:
    c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(body) + c.flush()
