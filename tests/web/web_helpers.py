"""Helpers for the playground tests: a real server process, a browser tab, polling."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    @property
    def host(self) -> str:
        return self.url.split("//", 1)[1].rstrip("/")


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


def stop_server(server: Server) -> None:
    """Interrupt the server as Ctrl-C would and wait for it."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


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
