"""The HTTP side of ``siamtrack serve``: a page to watch and steer live tracking, and an API.

Built on FastAPI (Starlette, served by uvicorn; ``pip install 'siamtrack[serve]'``); its OpenAPI
description is at ``/openapi.json``. Routes:

| route | what |
|---|---|
| ``GET /`` | the page: every stream live, draw a box to add a target, click one to remove it |
| ``GET /docs`` | this API, described from ``/openapi.json`` (works offline: no assets from elsewhere) |
| ``GET /api/streams`` | every stream's state: status, size, frame, fps, targets |
| ``GET /api/streams/{id}`` | one stream's state |
| ``POST /api/streams/{id}/targets`` | add a target: ``{"box": [x, y, w, h]}`` -> ``201 {"id": n}`` |
| ``DELETE /api/streams/{id}/targets/{target}`` | remove it -> ``204`` |
| ``GET /api/streams/{id}/snapshot.jpg`` | the newest annotated frame |
| ``GET /api/streams/{id}/video.mjpg`` | the annotated frames as they come (multipart JPEG) |
| ``GET /api/results`` | server-sent events: every stream's state after each processed frame |

Safe by default: the command binds 127.0.0.1 unless told otherwise, and refuses any other address
without a token. Once a token is set, every request needs it, the page included: ``?token=`` or
``Authorization: Bearer``. Without a token, a request must name this server in its ``Host``
header (a loopback name, or one given with ``--allow-host``), and a change (``POST``, ``DELETE``)
sent by a web page must come from a page of this server (its ``Origin``): a page elsewhere that
rebinds its own name to 127.0.0.1 can neither watch nor steer (DNS rebinding); with a token, the
token keeps such pages out. Request bodies are limited to
`MAX_BODY` bytes as they are read (a chunked body without a length included), changes are
rate-limited per client (`CHANGES_PER_SECOND`), targets per stream are limited (the server's
``max_targets``); every refused request gets a 4xx status and a one-line JSON ``{"error": ...}``;
once tracking has stopped (an output failed) changes get ``503``. Nothing a client sends names a
file: streams and targets are numbers.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations
# at run time to build requests and the OpenAPI description, and the request model is local.
import asyncio
import hmac
import json
import time
from collections import defaultdict, deque
from importlib import resources
from typing import Any, AsyncIterator, Optional, Sequence

from siamtrack.errors import ConfigError, InputError, SiamtrackError, TrackingStopped
from siamtrack.serve.engine import TrackingServer

MAX_BODY = 4096  # bytes: a target's box is a few dozen
CHANGES_PER_SECOND = 10  # adds and removes per client and second
SSE_PERIOD = 0.05  # seconds between checks for new results on the event stream


def _fastapi() -> Any:
    try:
        import fastapi
    except ImportError:
        raise ConfigError("siamtrack serve needs FastAPI and uvicorn: pip install 'siamtrack[serve]'") from None
    return fastapi


def _page(name: str) -> str:
    """One of the pages shipped in ``siamtrack/serve/static``."""
    return resources.files("siamtrack.serve").joinpath("static", name).read_text(encoding="utf-8")


def create_app(server: TrackingServer, token: Optional[str] = None, allowed_hosts: Sequence[str] = ()) -> Any:
    """The FastAPI application for ``server``; ``token`` (if any) is required on every request, and
    ``Host`` must be a loopback name or one of ``allowed_hosts`` (see the module docstring)."""
    fastapi = _fastapi()
    app = fastapi.FastAPI(title="siamtrack serve", version=_version(), docs_url=None, redoc_url=None,
                          description="Watch and steer live tracking; see siamtrack.serve.webapp.")
    _add_guard(app, token, {name.lower() for name in (*LOOPBACK_NAMES, *allowed_hosts)})
    _add_pages(app)
    _add_target_routes(app, server)
    _add_media_routes(app, server)
    return BodyLimit(app, MAX_BODY)


def _error(status: int, message: str) -> Any:
    """The one-line JSON answer every refused request gets."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


def _view(server: TrackingServer, stream: int) -> Any:
    """Stream ``stream``'s view, or a 404 naming the streams there are."""
    from starlette.exceptions import HTTPException

    if not 0 <= stream < len(server.views):
        raise HTTPException(404, f"no stream {stream}; streams are 0 to {len(server.views) - 1}")
    return server.views[stream]


class _ChangeLimit:
    """At most `CHANGES_PER_SECOND` changes per client in any second."""

    def __init__(self) -> None:
        self.recent: dict[str, deque] = defaultdict(deque)

    def allows(self, client: str) -> bool:
        recent, now = self.recent[client], time.monotonic()
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        if len(recent) >= CHANGES_PER_SECOND:
            return False
        recent.append(now)
        return True


def _refusal(request: Any, token: Optional[str], hosts: set[str], limit: _ChangeLimit) -> Optional[Any]:
    """Why ``request`` is refused (a response), or None: host, origin, token, rate (module docstring)."""
    host = _host_name(request.headers.get("host", ""))
    if token is None and host not in hosts:  # with a token, the token is what keeps strangers out
        return _error(421, "this server does not answer to that host name (see --allow-host)")
    origin = request.headers.get("origin")
    if (request.method not in ("GET", "HEAD", "OPTIONS") and origin is not None
            and _host_name(origin.split("://", 1)[-1]) not in hosts | {host}):
        return _error(403, "changes are accepted only from this server's own page")
    if token is not None and not _authorised(request, token):
        return _error(401, "a token is required: ?token=TOKEN or Authorization: Bearer TOKEN")
    client = request.client.host if request.client else "?"
    if request.method in ("POST", "DELETE", "PUT", "PATCH") and not limit.allows(client):
        return _error(429, f"more than {CHANGES_PER_SECOND} changes a second; slow down")
    return None


def _add_guard(app: Any, token: Optional[str], hosts: set[str]) -> None:
    """Every request checked before its route; validation and HTTP errors as one-line JSON."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    limit = _ChangeLimit()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        refused = _refusal(request, token, hosts, limit)
        return refused if refused is not None else await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return _error(422, f"invalid request: {where + ': ' if where else ''}{first.get('msg', 'malformed')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        return _error(exc.status_code, str(exc.detail))


def _add_pages(app: Any) -> None:
    from fastapi.responses import HTMLResponse

    @app.get("/", response_class=HTMLResponse, include_in_schema=False, response_model=None)
    async def page() -> HTMLResponse:
        return HTMLResponse(_page("index.html"))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False, response_model=None)
    async def api_page() -> HTMLResponse:  # renders /openapi.json in the browser; no assets from elsewhere
        return HTMLResponse(_page("api.html"))


def _add_target_routes(app: Any, server: TrackingServer) -> None:
    """The streams' states, and adding and removing targets."""
    from typing import Annotated

    from fastapi.responses import Response
    from pydantic import BaseModel, ConfigDict, Field

    Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False)]

    class NewTarget(BaseModel):
        model_config = ConfigDict(extra="forbid")
        box: list[Coordinate] = Field(min_length=4, max_length=4, description="x, y, w, h in frame pixels")

    @app.get("/api/streams", summary="every stream's state")
    async def streams() -> list[dict]:
        return [dict(view.summary(), id=index) for index, view in enumerate(server.views)]

    @app.get("/api/streams/{stream}", summary="one stream's state")
    async def one_stream(stream: int) -> dict:
        return dict(_view(server, stream).summary(), id=stream)

    @app.post("/api/streams/{stream}/targets", status_code=201, summary="add a target on the newest frame",
              response_model=None)
    async def add_target(stream: int, target: NewTarget) -> Any:
        _view(server, stream)
        try:
            target_id = await asyncio.to_thread(server.add_target, stream, target.box)
        except TrackingStopped as exc:
            return _error(503, str(exc))
        except SiamtrackError as exc:
            conflict = any(words in str(exc) for words in ("targets, the most", "no frame", "no new frames"))
            return _error(409 if conflict else 422, str(exc))  # 409: the stream's state, not the request, is why
        return {"id": target_id}

    @app.delete("/api/streams/{stream}/targets/{target_id}", status_code=204, summary="remove a target",
                response_class=Response, response_model=None)
    async def remove_target(stream: int, target_id: int) -> Response:
        _view(server, stream)
        try:
            await asyncio.to_thread(server.remove_target, stream, target_id)
        except TrackingStopped as exc:
            return _error(503, str(exc))
        except KeyError:
            return _error(404, f"no target {target_id} on stream {stream}")
        return Response(status_code=204)


def _add_media_routes(app: Any, server: TrackingServer) -> None:
    """The annotated frames (snapshot, MJPEG) and the results as server-sent events."""
    from fastapi import Request
    from fastapi.responses import Response, StreamingResponse

    @app.get("/api/streams/{stream}/snapshot.jpg", summary="the newest annotated frame (JPEG)",
             response_class=Response, response_model=None)
    async def snapshot(stream: int) -> Response:
        view = _view(server, stream)
        server.snapshot_wanted = True  # the next frame is encoded; wait for it
        try:
            await asyncio.to_thread(server.wait_for_change, view.version, stream, 2.0)
        finally:
            server.snapshot_wanted = False  # one request encodes one frame, not every frame from now on
        if not view.jpeg:
            return _error(503, f"stream {stream} has no frame yet ({view.status})")
        return Response(view.jpeg, media_type="image/jpeg")

    @app.get("/api/streams/{stream}/video.mjpg", summary="the annotated frames as they come (MJPEG)",
             response_class=StreamingResponse, response_model=None)
    async def video(stream: int, request: Request) -> StreamingResponse:
        view = _view(server, stream)

        async def frames() -> AsyncIterator[bytes]:
            server.watchers += 1
            try:
                version = -1
                while not server.stopped and not await request.is_disconnected():
                    version = await asyncio.to_thread(server.wait_for_change, version, stream, 1.0)
                    if view.jpeg:
                        yield (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(view.jpeg)
                               + view.jpeg + b"\r\n")
            finally:
                server.watchers -= 1

        return StreamingResponse(frames(), media_type="multipart/x-mixed-replace; boundary=frame")

    @app.get("/api/results", summary="every stream's state after each processed frame (server-sent events)",
             response_class=StreamingResponse, response_model=None)
    async def results(request: Request) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            sent = [-1] * len(server.views)
            while not server.stopped and not await request.is_disconnected():
                for index, view in enumerate(server.views):
                    if view.version != sent[index]:
                        sent[index] = view.version
                        yield f"data: {json.dumps(dict(view.summary(), id=index))}\n\n"
                await asyncio.sleep(SSE_PERIOD)

        return StreamingResponse(events(), media_type="text/event-stream")


class BodyLimit:
    """ASGI middleware: a request body longer than ``limit`` bytes gets 413 before the application
    sees it, counted as it is read (a ``Content-Length`` may be absent or lie; a chunked body has none)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    def __getattr__(self, name: str) -> Any:  # the FastAPI app's attributes (routes, openapi) stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await _send_json(send, 413, f"request body over {self.limit} bytes")
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _send_json(send: Any, status: int, message: str) -> None:
    content = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def _host_name(host: str) -> str:
    """The name in a ``Host`` header or an origin's authority, without port, lower case (IPv6 keeps its brackets)."""
    host = host.strip().lower().split("/", 1)[0]
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return "127.0.0.1" if name.startswith("127.") else name


def _authorised(request: Any, token: str) -> bool:
    offered = request.query_params.get("token") or ""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        offered = header[len("bearer "):].strip()
    return hmac.compare_digest(offered.encode(), token.encode())


def _version() -> str:
    from siamtrack import __version__

    return __version__


def check_binding(host: str, token: Optional[str]) -> None:
    """Refuse to listen beyond this machine without a token (see the module docstring)."""
    import ipaddress

    loopback = host == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass  # a host name other than localhost: treat as reachable from outside
    if not loopback and not token:
        raise InputError(f"--host {host} makes the server reachable from other machines: set a token with --token "
                         f"or SIAMTRACK_TOKEN (every request then needs it)")
