"""The playground's ASGI application: the page, its static files and one websocket per tab.

Routes only; the protocol lives in :mod:`chainrule.web.protocol` and the training in
:mod:`chainrule.web.session`.

Safety: the ``Host`` header must name an allowed host (DNS rebinding), a websocket handshake
whose ``Origin`` is not the page's own origin is refused (cross-site websocket hijacking),
static files come from the package's ``static`` folder only, and every message is validated,
size- and rate-limited (a broken message gets an error reply; the session goes on).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import gc
import json
import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from chainrule.errors import ChainruleError
from chainrule.web.protocol import (
    FRAME_DRAWN,
    MAX_SESSIONS,
    MESSAGE_BURST,
    MESSAGES_PER_SECOND,
    RateLimiter,
    parse_message,
)
from chainrule.web.session import PageClosed, Session

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
RELEASE_DELAY_S = 0.5
"""Seconds after the last tab has gone before its memory is handed back."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _origin_allowed(websocket: WebSocket) -> bool:
    """True when the handshake's ``Origin`` is this server's own ``http://<Host>``."""
    host = websocket.headers.get("host")
    origin = websocket.headers.get("origin")
    return host is not None and origin == f"http://{host}"


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def _release_memory(sessions: Collection[Session]) -> None:
    """Once no tab is left: collect the closed sessions' garbage and give the freed heap back
    to the operating system.

    glibc keeps freed memory for reuse, so without this a server that served many tabs stays
    that large after they have gone.
    """
    if sessions:  # a tab came back meanwhile
        return
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def create_app(
    *,
    allowed_hosts: Collection[str] = LOOPBACK_HOSTS,
    max_sessions: int = MAX_SESSIONS,
    messages_per_second: float = MESSAGES_PER_SECOND,
    message_burst: int = MESSAGE_BURST,
) -> Starlette:
    """Build the playground application.

    Parameters
    ----------
    allowed_hosts:
        Host names the ``Host`` header may carry (``"*"`` for any, when serving a network).
    max_sessions:
        Websocket sessions served at once; further tabs get an error and are closed.
    messages_per_second, message_burst:
        Each connection's message rate limit (see :class:`~chainrule.web.protocol.RateLimiter`).
    """
    sessions: set[Session] = set()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_HEADERS)

    async def health(request: Request) -> Response:
        return Response(
            json.dumps({"sessions": len(sessions), "playing": sum(s.playing for s in sessions)}),
            media_type="application/json",
        )

    async def websocket_endpoint(websocket: WebSocket) -> None:
        if not _origin_allowed(websocket):
            log.warning("refused a websocket from origin %r", websocket.headers.get("origin"))
            await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
            return
        await websocket.accept()
        if len(sessions) >= max_sessions:
            await websocket.send_json(
                {
                    "type": "error",
                    "message": f"the server already runs {max_sessions} sessions; "
                    "close another tab and reload",
                }
            )
            await websocket.close(code=1013)
            return

        async def send(message: dict[str, Any]) -> None:
            try:
                await websocket.send_text(json.dumps(message, allow_nan=False))
            # the page left: its socket closing (WebSocketDisconnect) or closed (starlette's
            # WebSocketDisconnected, a RuntimeError)
            except (WebSocketDisconnect, RuntimeError) as err:
                raise PageClosed from err

        session = Session(send)
        sessions.add(session)
        limiter = RateLimiter(rate=messages_per_second, burst=message_burst)
        throttled = False
        try:
            await session.start()
            while True:
                event = await websocket.receive()
                if event["type"] == "websocket.disconnect":
                    break
                if event.get("text") == FRAME_DRAWN:  # flow control: no reply, no rate limit
                    session.frame_drawn()
                    continue
                if not limiter.allow():
                    if not throttled:  # one error per burst, not one per dropped message
                        await send(
                            {
                                "type": "error",
                                "message": "too many messages: slow down (some were ignored)",
                            }
                        )
                    throttled = True
                    continue
                throttled = False
                try:
                    message = parse_message(
                        event["text"] if event.get("text") is not None else event.get("bytes", b"")
                    )
                    await session.handle(message)
                except ChainruleError as err:
                    await send({"type": "error", "message": str(err)})
                except PageClosed:
                    raise  # the page left while being answered: not an error to report
                except Exception as err:  # a bug must not end the session: report and go on
                    log.exception("playground session error")
                    await send(
                        {"type": "error", "message": f"internal error: {type(err).__name__}"}
                    )
        except (PageClosed, WebSocketDisconnect):
            pass  # the page left
        finally:
            await session.close()
            sessions.discard(session)
            if not sessions:  # after the connections' own teardown, which follows this
                asyncio.get_running_loop().call_later(RELEASE_DELAY_S, _release_memory, sessions)

    routes = [
        Route("/", index),
        Route("/health", health),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    return Starlette(routes=routes, middleware=middleware)


__all__ = ["LOOPBACK_HOSTS", "STATIC", "create_app"]
