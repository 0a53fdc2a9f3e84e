"""The real server: ``chainrule playground`` under uvicorn on loopback, spoken to over sockets."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import time
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest
import websockets
from web_helpers import Server, run_playground_command, start_server, stop_server, wait_for
from websockets.asyncio.client import connect

LOAD_SECONDS = float(os.environ.get("CHAINRULE_PLAYGROUND_LOAD_SECONDS", "15"))
SESSIONS = 20
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: Playwright's sync API may own this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def raw_get(server: Server, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written: no client-side normalisation of ``..``."""
    connection = http.client.HTTPConnection(server.host, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_serves_the_page_from_the_package(server: Server) -> None:
    status, body = raw_get(server, "/")
    assert status == 200 and b"chainrule playground" in body
    status, body = raw_get(server, "/static/app.js")
    assert status == 200 and b"__chainrule" in body


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fserialization/model_file.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/../../../../etc/passwd",
        "/static/..\\app.py",
    ],
)
def test_no_path_traversal(server: Server, path: str) -> None:
    status, body = raw_get(server, path)
    assert status in (400, 404)
    assert b"import" not in body and b"root:" not in body


def test_websocket_handshake_checks_the_origin(server: Server) -> None:
    async def attempt(origin: str | None) -> Any:
        uri = f"ws://{server.host}/ws"
        try:
            async with connect(uri, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
                return json.loads(await ws.recv())["type"]
        except websockets.exceptions.InvalidStatus as err:
            return err.response.status_code

    assert run_async(attempt(f"http://{server.host}")) == "state"
    assert run_async(attempt("http://evil.example")) == 403
    assert run_async(attempt(None)) == 403


def test_binding_elsewhere_warns_loudly() -> None:
    other = start_server("--host", "0.0.0.0")
    try:
        assert other.url.startswith("http://0.0.0.0:")
    finally:
        stderr = stop_server(other)
    assert "WARNING" in stderr


def test_default_binds_loopback_quietly(server: Server) -> None:
    assert server.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_loopback_server_refuses_other_host_names(host: str) -> None:
    """DNS rebinding: a request that reaches the loopback server under another site's name is
    refused; the server's own name is served, an IPv6 literal in brackets included."""
    server = start_server("--host", host)
    try:
        assert raw_get(server, "/")[0] == 200  # Host: the URL's own, e.g. [::1]:PORT
        connection = http.client.HTTPConnection(server.host, timeout=10)
        connection.request("GET", "/", headers={"Host": "rebound.example"})
        assert connection.getresponse().status == 400
        connection.close()
    finally:
        stop_server(server)


def test_open_hands_the_printed_url_to_the_web_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--open`` starts the user's browser (``$BROWSER``, as :mod:`webbrowser` reads it) on the
    URL the server printed, and that URL serves the page."""
    opened = tmp_path / "opened-url"
    browser = tmp_path / "browser"
    partial = f"{opened}.part"  # renamed when complete: the test never reads half a URL
    browser.write_text(f"#!/bin/sh\nprintf '%s' \"$1\" > '{partial}'\nmv '{partial}' '{opened}'\n")
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    server = start_server("--open")
    try:
        url = wait_for(lambda: opened.exists() and opened.read_text(), timeout_s=20)
        assert url == server.url
        status, body = raw_get(server, "/")
        assert status == 200
        assert b"<html" in body.lower()
    finally:
        stop_server(server)


def test_bad_port_is_a_user_error() -> None:
    result = run_playground_command("--port", "70000")
    assert result.returncode == 2
    assert "--port must be between 0 and 65535; got 70000" in result.stderr


@pytest.mark.slow
def test_twenty_sessions_training_at_once(artifacts: Path) -> None:
    """20 tabs train for LOAD_SECONDS: the server keeps answering and its memory stays flat."""
    running = start_server()
    process = psutil.Process(running.process.pid)
    uri, origin = f"ws://{running.host}/ws", f"http://{running.host}"
    health_url = f"{running.url}health"

    def health() -> tuple[float, dict[str, int]]:
        start = time.perf_counter()
        with urllib.request.urlopen(health_url, timeout=10) as response:
            body = json.loads(response.read())
        return time.perf_counter() - start, body

    async def tab(frames: list[int], index: int, stop: asyncio.Event) -> None:
        async with connect(uri, origin=origin, max_size=2**23) as ws:
            await ws.send(json.dumps({"type": "play"}))
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                if message.startswith('{"type": "frame"'):
                    frames[index] += 1

    async def run() -> dict[str, Any]:
        frames = [0] * SESSIONS
        stop = asyncio.Event()
        tasks = [asyncio.create_task(tab(frames, i, stop)) for i in range(SESSIONS)]
        await asyncio.sleep(2.0)  # all connected and training
        rss_start = process.memory_info().rss
        _, during = await asyncio.to_thread(health)
        counted = list(frames)
        latencies, rss = [], []
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline:
            latency, _ = await asyncio.to_thread(health)
            latencies.append(latency)
            rss.append(process.memory_info().rss)
            await asyncio.sleep(0.5)
        per_session = [(f - c) / LOAD_SECONDS for f, c in zip(frames, counted, strict=True)]
        stop.set()
        await asyncio.gather(*tasks)
        await asyncio.sleep(0.5)
        _, after = await asyncio.to_thread(health)
        return {
            "sessions": SESSIONS,
            "seconds": LOAD_SECONDS,
            "playing_during": during["playing"],
            "sessions_after_close": after["sessions"],
            "frames_per_second_per_session_min": min(per_session),
            "frames_per_second_per_session_mean": statistics.mean(per_session),
            "frames_per_second_total": sum(per_session),
            "health_latency_median_s": statistics.median(latencies),
            "health_latency_max_s": max(latencies),
            "rss_start_mb": rss_start / 2**20,
            "rss_max_mb": max(rss) / 2**20,
            "rss_end_mb": rss[-1] / 2**20,
        }

    try:
        figures = run_async(run())
    finally:
        stop_server(running)
    (artifacts / "concurrency.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    assert figures["playing_during"] == SESSIONS
    assert figures["sessions_after_close"] == 0
    assert figures["frames_per_second_per_session_min"] >= 2
    assert figures["health_latency_median_s"] < 0.5
    assert figures["health_latency_max_s"] < 2.0
    assert figures["rss_max_mb"] - figures["rss_start_mb"] < 64
