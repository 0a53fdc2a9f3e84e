"""Fixtures for the data-set tests: strict floating point, and a local HTTP file server."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _strict_floating_point() -> Iterator[None]:
    """Every test runs with numpy raising on any FP problem and RuntimeWarnings as errors."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


class FileServer:
    """Serves ``files`` (name -> bytes) on 127.0.0.1 at a free port.

    ``ranges``: honour ``Range: bytes=N-`` requests (206 / 416); otherwise ignore the header
    and send 200 with the whole file. ``cut_after[name] = k``: on the next request for
    ``name`` announce the full length but send only ``k`` bytes, then close the connection.
    ``requests`` records ``(name, range_header)`` for every request.
    ``content_types[name]``: the ``Content-Type`` header sent with ``name`` (none by default).
    ``fail_with[name] = status``: answer the next request for ``name`` with that error.
    ``hold[name] = (k, event)``: on the next request for ``name`` send ``k`` bytes, then wait
    (at most 10 s) for ``event`` before sending the rest.
    """

    def __init__(self, files: dict[str, bytes], *, ranges: bool = True) -> None:
        self.files = dict(files)
        self.ranges = ranges
        self.cut_after: dict[str, int] = {}
        self.content_types: dict[str, str] = {}
        self.hold: dict[str, tuple[int, threading.Event]] = {}
        self.fail_with: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                range_header = self.headers.get("Range")
                server.requests.append((name, range_header))
                if name not in server.files:
                    self.send_error(404, "Not Found")
                    return
                if name in server.fail_with:
                    self.send_error(server.fail_with.pop(name))
                    return
                data = server.files[name]
                match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
                if match and server.ranges:
                    start = int(match.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = data[start:]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    body = data
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                if name in server.content_types:
                    self.send_header("Content-Type", server.content_types[name])
                self.end_headers()
                cut = server.cut_after.pop(name, None)
                hold = server.hold.pop(name, None)
                if hold is not None:
                    self.wfile.write(body[: hold[0]])
                    self.wfile.flush()
                    hold[1].wait(10)
                    body = body[hold[0] :]
                self.wfile.write(body if cut is None else body[:cut])
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> FileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def file_server() -> Iterator[Callable[..., FileServer]]:
    """A factory: ``file_server(files, ranges=...)`` starts a server, stopped after the test."""
    started: list[FileServer] = []

    def start(files: dict[str, bytes], *, ranges: bool = True) -> FileServer:
        server = FileServer(files, ranges=ranges).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
