"""The playground server under load (issue 7): 50 tabs training at once on loopback, in figures.

A real ``chainrule playground`` process (uvicorn, 127.0.0.1, a free port) serves 50 websocket
sessions from this process. Each configures its own network and data set, presses play and,
while frames stream in, sends a one-point ``predict`` every half second: its round trip is the
request latency, the gaps between frames the inter-arrival times. The server's RSS is read with
psutil before, during and after; its ``/health`` tells the sessions open.

``CHAINRULE_PLAYGROUND_LOAD_SECONDS`` sets the measured stretch (default 20; 60 for the full
run). The figures go to ``test-artifacts/reliability/playground-load.json``, to the test's
``record_property`` and to its output.

The default session cap is tested too: the (cap + 1)-th tab gets a clear error and close code
1013, and a tab is served again once another has left.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_helpers import (
    ROOT,
    PlayingTab,
    Server,
    run_playground_command,
    start_server,
    stop_server,
    wait_for,
    ws_connect,
)

from chainrule.web.protocol import DATASETS, MAX_SESSIONS

SESSIONS = 50
LOAD_SECONDS = float(os.environ.get("CHAINRULE_PLAYGROUND_LOAD_SECONDS", "20"))
P99_LATENCY_S = 3.0
"""Generous bounds: this is a shared 2-core machine and 50 sessions saturate one event loop."""
MAX_FRAME_GAP_S = 5.0
RSS_GROWTH_MB = 250.0
RSS_RETURN_MB = 30.0
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")
MB = 2**20
SERVER_FAILURE = re.compile("Exception in ASGI application|playground session error|ERROR")
"""What the server logs when a request or a message handler fails."""


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def tab_changes(i: int) -> dict[str, Any]:
    """Session ``i``'s own network and data: a mix of data sets, depths and activations."""
    return {
        "dataset": DATASETS[i % len(DATASETS)],
        "seed": i,
        "hidden": [{"units": 4 + 2 * (i % 3), "activation": ACTIVATIONS[i % 4]}] * (1 + i % 2),
        "learning_rate": 0.01,
    }


@pytest.fixture
def loaded_server() -> Iterator[tuple[Server, list[str]]]:
    """A server whose cap is exactly the number of sessions of the load test."""
    server = start_server("--max-sessions", str(SESSIONS))
    stderr = server.collect_stderr()
    yield server, stderr
    stop_server(server)


class Sampler:
    """The server's RSS every ``every_s`` seconds, in a thread, while it runs."""

    def __init__(self, process: psutil.Process, every_s: float = 0.25) -> None:
        self.rss: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(process, every_s), daemon=True)
        self._thread.start()

    def _run(self, process: psutil.Process, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.rss.append(process.memory_info().rss)

    def close(self) -> int:
        """Stop; the peak RSS seen."""
        self._stop.set()
        self._thread.join()
        return max(self.rss)


async def refused(server: Server) -> tuple[dict[str, Any], int | None]:
    """Open one more tab: the server's first message and the close code that follows."""
    async with ws_connect(server) as ws:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
        await asyncio.wait_for(ws.wait_closed(), timeout=30)
        return message, ws.close_code


async def until(wanted: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not wanted():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def settle_rss(process: psutil.Process, seconds: float = 2.0) -> int:
    """The lowest RSS over ``seconds``: the server frees memory once its last tab has gone."""
    samples: list[int] = []
    for _ in range(int(seconds / 0.25)):
        samples.append(process.memory_info().rss)
        time.sleep(0.25)
    return min(samples)


@pytest.mark.slow
@pytest.mark.timeout(LOAD_SECONDS + 180)
def test_fifty_sessions_training_at_once(
    loaded_server: tuple[Server, list[str]], record_property: Callable[[str, object], None]
) -> None:
    server, stderr = loaded_server
    process = psutil.Process(server.process.pid)
    rss_cold = process.memory_info().rss

    # warm-up: one tab trains briefly, so the baseline includes what the first session loads
    warm = PlayingTab(server, tab_changes(0))
    threading.Timer(1.5, warm.stop.set).start()
    asyncio.run(warm.run())
    assert warm.frames and not warm.unexpected
    wait_for(lambda: server.health()["sessions"] == 0)
    rss_before = settle_rss(process)

    stop = threading.Event()
    tabs = [PlayingTab(server, tab_changes(i), stop) for i in range(SESSIONS)]

    async def load() -> tuple[float, float, dict[str, int], tuple[dict[str, Any], int | None]]:
        tasks = [asyncio.create_task(tab.run()) for tab in tabs]
        await until(lambda: all(t.playing_since is not None for t in tabs), timeout_s=120)
        start = time.monotonic()
        during = await asyncio.to_thread(server.health)
        over_cap = await refused(server)
        await asyncio.sleep(start + LOAD_SECONDS - time.monotonic())
        end = time.monotonic()
        stop.set()
        await asyncio.gather(*tasks)
        return start, end, during, over_cap

    sampler = Sampler(process)
    try:
        start, end, during, (over_cap, over_cap_code) = asyncio.run(load())
    finally:
        stop.set()
        rss_peak = sampler.close()
    wait_for(lambda: server.health()["sessions"] == 0, timeout_s=20)
    rss_after = settle_rss(process)

    latencies = [x for tab in tabs for x in tab.latencies]
    gaps = [g for tab in tabs for g in tab.gaps(start, end)]
    frames = [sum(start <= t <= end for t in tab.frames) for tab in tabs]
    figures = {
        "sessions": SESSIONS,
        "seconds": round(end - start, 2),
        "frames_total": sum(frames),
        "frames_per_second_total": round(sum(frames) / (end - start), 1),
        "frames_per_session_min": min(frames),
        "pings": len(latencies),
        "latency_p50_ms": round(1e3 * percentile(latencies, 50), 1),
        "latency_p99_ms": round(1e3 * percentile(latencies, 99), 1),
        "latency_max_ms": round(1e3 * max(latencies), 1),
        "frame_gap_p50_ms": round(1e3 * percentile(gaps, 50), 1),
        "frame_gap_p99_ms": round(1e3 * percentile(gaps, 99), 1),
        "frame_gap_max_ms": round(1e3 * max(gaps), 1),
        "rss_cold_mb": round(rss_cold / MB, 1),
        "rss_before_mb": round(rss_before / MB, 1),
        "rss_peak_mb": round(rss_peak / MB, 1),
        "rss_after_mb": round(rss_after / MB, 1),
        "playing_during": during["playing"],
    }
    folder = ROOT / "test-artifacts" / "reliability"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "playground-load.json").write_text(json.dumps(figures, indent=2))
    record_property("playground_load", json.dumps(figures))
    print("playground load:", json.dumps(figures))

    assert during == {"sessions": SESSIONS, "playing": SESSIONS}
    assert (
        over_cap["type"] == "error" and f"already runs {SESSIONS} sessions" in over_cap["message"]
    )
    assert over_cap_code == 1013
    assert [u for tab in tabs for u in tab.unexpected] == []
    for tab in tabs:  # every tab trained and was answered all along
        assert tab.latencies and tab.steps[-1] > tab.steps[0]
        assert max(tab.gaps(start, end)) < MAX_FRAME_GAP_S
    assert percentile(latencies, 99) < P99_LATENCY_S
    assert statistics.median(gaps) < 1.0
    assert rss_peak - rss_before < RSS_GROWTH_MB * MB
    assert rss_after - rss_before < RSS_RETURN_MB * MB
    assert not [line for line in stderr if SERVER_FAILURE.search(line)], "".join(stderr)


@pytest.fixture(scope="module")
def default_server() -> Iterator[tuple[Server, list[str]]]:
    """A server started as a user would: ``chainrule playground`` with no options."""
    server = start_server()
    stderr = server.collect_stderr()
    yield server, stderr
    stop_server(server)


def test_by_default_the_server_listens_on_loopback_only_and_quietly(
    default_server: tuple[Server, list[str]],
) -> None:
    """The socket itself, not just the printed URL (``tests/web`` checks the loud warning)."""
    server, stderr = default_server
    listening = [
        c.laddr
        for c in psutil.Process(server.process.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert [(a.ip, a.port) for a in listening] == [
        ("127.0.0.1", int(server.url.split(":")[-1][:-1]))
    ]
    assert not [line for line in stderr if "WARNING" in line], "".join(stderr)


def test_the_default_session_cap_refuses_one_more_tab_clearly(
    default_server: tuple[Server, list[str]],
) -> None:
    server, stderr = default_server

    async def flood() -> None:
        stack = [ws_connect(server) for _ in range(MAX_SESSIONS)]
        opened = await asyncio.gather(*(s.__aenter__() for s in stack))
        try:
            firsts = await asyncio.gather(*(ws.recv() for ws in opened))
            assert all(json.loads(text)["type"] == "state" for text in firsts)
            assert server.health()["sessions"] == MAX_SESSIONS
            message, code = await refused(server)
            assert message == {
                "type": "error",
                "message": f"the server already runs {MAX_SESSIONS} sessions; "
                "close another tab and reload",
            }
            assert code == 1013
            await stack.pop().__aexit__(None, None, None)  # one tab leaves: another is served
            await until(lambda: server.health()["sessions"] == MAX_SESSIONS - 1, timeout_s=10)
            async with ws_connect(server) as ws:
                assert json.loads(await ws.recv())["type"] == "state"
        finally:
            await asyncio.gather(*(s.__aexit__(None, None, None) for s in stack))

    asyncio.run(flood())
    wait_for(lambda: server.health()["sessions"] == 0)
    assert not [line for line in stderr if SERVER_FAILURE.search(line)], "".join(stderr)


def test_a_session_cap_below_one_is_a_user_error() -> None:
    result = run_playground_command("--max-sessions", "0")
    assert result.returncode == 2
    assert "--max-sessions must be at least 1; got 0" in result.stderr
