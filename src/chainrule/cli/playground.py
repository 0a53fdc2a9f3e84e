"""``chainrule playground``: serve the browser playground on this machine.

Binds 127.0.0.1 by default, so only this machine can reach it; another ``--host`` gets a loud
warning. ``--port 0`` picks a free port; the line with the URL is printed once the socket is
bound, before serving starts.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import threading
import webbrowser

from chainrule.errors import ValidationError
from chainrule.web.protocol import MAX_SESSIONS

HARD_MESSAGE_LIMIT = 4_000_000
"""uvicorn closes a websocket whose message exceeds this; smaller oversized messages get an
error reply from the application instead (see ``chainrule.web.protocol.MAX_MESSAGE_BYTES``)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``playground`` sub-command."""
    parser = subparsers.add_parser(
        "playground",
        help="serve the browser playground (training runs here, in chainrule)",
        description="Start the playground web server and print its URL. Open it in a browser: "
        "every tab trains its own network with chainrule's engine.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=MAX_SESSIONS,
        help=f"browser tabs served at once (default {MAX_SESSIONS}); further tabs get an error",
    )
    parser.add_argument("--open", action="store_true", help="open the page in the web browser")
    parser.set_defaults(func=run)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise ValidationError(f"--port must be between 0 and 65535; got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ValidationError(f"--host {host!r} is not an address of this machine: {err}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise ValidationError(
            f"cannot listen on {host}:{port}: {err.strerror}; try another --port (0 picks one)"
        ) from None
    sock.listen(128)
    return sock


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; return the exit status."""
    import uvicorn

    from chainrule.web.app import LOOPBACK_HOSTS, create_app

    host: str = args.host
    if args.max_sessions < 1:
        raise ValidationError(f"--max-sessions must be at least 1; got {args.max_sessions}")
    sock = _bind(host, args.port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host  # as in a URL and a Host header
    url = f"http://{shown}:{port}/"
    if _is_loopback(host):
        # Only the names of this machine: a page of another site that the browser sends here
        # (DNS rebinding) carries its own name in Host and is refused. An IPv6 literal is
        # bracketed in Host ("[::1]:8000").
        allowed = [*LOOPBACK_HOSTS, shown]
    else:
        print(
            f"WARNING: serving the playground on {host}, reachable from other machines. It has "
            "no authentication: anyone who can reach this address can use it. Bind 127.0.0.1 "
            "(the default) unless you mean it.",
            file=sys.stderr,
            flush=True,
        )
        allowed = ["*"]
    print(f"chainrule playground: open {url}  (Ctrl-C stops the server)", flush=True)
    app = create_app(allowed_hosts=allowed, max_sessions=args.max_sessions)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws_max_size=HARD_MESSAGE_LIMIT,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    if args.open:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server.run(sockets=[sock])
    return 0
