"""Helpers for the playground tests: a real server process, a browser tab, a websocket tab,
polling."""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from cli_helpers import chainrule

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Server:
    """A ``chainrule playground`` process and the URL it printed."""

    url: str
    process: subprocess.Popen[str]
    stderr_reader: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self.url.split("//", 1)[1].rstrip("/")

    @property
    def ws_uri(self) -> str:
        return f"ws://{self.host}/ws"

    @property
    def origin(self) -> str:
        """The page's own origin, the one the websocket handshake must carry."""
        return f"http://{self.host}"

    def health(self) -> dict[str, int]:
        """``GET /health``: the sessions open and playing."""
        connection = http.client.HTTPConnection(self.host, timeout=10)
        try:
            connection.request("GET", "/health")
            body: dict[str, int] = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        return body

    def collect_stderr(self) -> list[str]:
        """Read stderr in a thread from now on (a full pipe would stall the server); its lines."""
        lines: list[str] = []
        stream = self.process.stderr
        assert stream is not None

        def read() -> None:
            for line in stream:
                lines.append(line)

        self.stderr_reader = threading.Thread(target=read, daemon=True)
        self.stderr_reader.start()
        return lines


def start_server(*extra: str) -> Server:
    """Run ``chainrule playground --port 0`` and wait for the line with its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "playground", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()
    match = re.search(r"http://\S+/", line)
    if match is None:
        process.kill()
        raise AssertionError(f"no URL in the server's first line {line!r}: {process.stderr.read()}")
    return Server(match.group(0), process)


def run_playground_command(*args: str) -> subprocess.CompletedProcess[str]:
    """``chainrule playground ARGS`` to completion (for arguments it must refuse)."""
    return chainrule("playground", *args, cwd=ROOT, timeout=60)


def stop_server(server: Server) -> str:
    """Interrupt the server as Ctrl-C would, wait for it and close its pipes; return what it
    wrote to stderr that :meth:`Server.collect_stderr` did not take."""
    process = server.process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    unread = ""
    if server.stderr_reader is not None:
        server.stderr_reader.join(timeout=10)  # reads to the end of the dead process's output
    else:
        unread = process.stderr.read()
    process.stderr.close()
    return unread


class Tab:
    """A fresh browser tab on the playground with its console errors collected."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(
            viewport={"width": 1440, "height": 1000}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.url = url

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def open(self, suffix: str = "") -> Any:
        self.page.goto(self.url + suffix)
        self.wait("window.__chainrule && window.__chainrule.frames > 0")
        return self.page

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def frame(self) -> dict[str, Any]:
        """The last frame the page received (as sent by the server)."""
        frame: dict[str, Any] = self.js("window.__chainrule.frame")
        return frame

    def send(self, message: dict[str, Any]) -> None:
        self.page.evaluate(f"window.__chainrule.send({json.dumps(message)})")

    def wait(self, expression: str, timeout_s: float = 15) -> None:
        """Wait until ``expression`` holds in the page (a function: the page's CSP forbids eval)."""
        self.page.wait_for_function(f"() => ({expression})", timeout=timeout_s * 1000)

    def close(self) -> None:
        self.context.close()


def wait_for(predicate: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def ws_connect(server: Server) -> connect:
    """A websocket to ``server`` from its own page's origin, straight over loopback (no
    keepalive pings: their payload would draw from ``random`` under a running hypothesis)."""
    return connect(
        server.ws_uri, origin=Origin(server.origin), proxy=None, max_size=2**23, ping_interval=None
    )


PING = json.dumps({"type": "predict", "points": [[0.25, -0.5]]})
"""A cheap request that does not pause training: its ``prediction`` reply times the server."""


@dataclass
class PlayingTab:
    """A page without a browser: configure a network, press play, record the frames.

    ``changes`` are applied to the server's default settings. While playing, a :data:`PING`
    is sent every ``ping_every_s`` (one at a time); ``latencies`` are their round trips.
    ``frames`` are the arrival times (``time.monotonic``) of the frames received while playing.
    Anything else the server says (errors, divergence) lands in ``unexpected``.
    """

    server: Server
    changes: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    ping_every_s: float = 0.5
    frames: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    playing_since: float | None = None

    async def _until(self, ws: ClientConnection, kind: str) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            if message["type"] == kind:
                return message
            if message["type"] not in ("state", "frame"):
                self.unexpected.append(f"{message['type']}: {message.get('message')}")

    async def run(self) -> None:
        """Play until ``stop`` is set, then close the websocket."""
        async with ws_connect(self.server) as ws:
            state = await self._until(ws, "state")
            await self._until(ws, "frame")
            settings = {**state["settings"], **self.changes}
            await ws.send(json.dumps({"type": "config", "settings": settings}))
            await self._until(ws, "state")
            await self._until(ws, "frame")
            await ws.send(json.dumps({"type": "play"}))
            self.playing_since = time.monotonic()
            pinged: float | None = None
            next_ping = time.monotonic() + self.ping_every_s
            while not self.stop.is_set():
                if pinged is None and time.monotonic() >= next_ping:
                    pinged = time.monotonic()
                    await ws.send(PING)
                try:
                    text = await asyncio.wait_for(ws.recv(), timeout=0.1)
                except TimeoutError:
                    continue
                now = time.monotonic()
                message = json.loads(text)
                if message["type"] == "frame" and message["playing"]:
                    self.frames.append(now)
                    self.steps.append(message["steps"])
                elif message["type"] == "prediction" and pinged is not None:
                    self.latencies.append(now - pinged)
                    pinged, next_ping = None, now + self.ping_every_s
                else:
                    self.unexpected.append(f"{message['type']}: {message.get('message')}")

    def gaps(self, start: float, end: float) -> list[float]:
        """Times between frames in ``[start, end]``, counting from ``start`` and to ``end``."""
        inside = [t for t in self.frames if start <= t <= end]
        edges = [start, *inside, end]
        return [b - a for a, b in itertools.pairwise(edges)]
