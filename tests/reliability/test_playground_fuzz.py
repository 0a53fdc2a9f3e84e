"""The playground server under attack (issue 7): fuzzed websocket messages on a live server.

A real ``chainrule playground`` process (uvicorn, 127.0.0.1, a free port) gets hypothesis-made
messages on three websockets: random JSON, wrong types, missing and unknown fields, unknown kinds,
huge numbers (1e308, 10**400 and integers past Python's 4300-digit limit), nesting 10,000 deep,
long strings and binary frames. Every malformed message must be answered by the error the
protocol's own decoder gives for it (never an "internal error"), a valid message still works
after each, and a second tab training meanwhile keeps its frame rate. The server's log must
show no failure.

Besides: handshakes from foreign origins, a message over the size limit (an error reply; over
uvicorn's hard limit, close code 1009), invalid UTF-8 (close code 1007) and the message-rate cap.

``CHAINRULE_FUZZ_SECONDS`` sets how long the fuzzer runs (default 15; ``make fuzz`` runs it
longer); the messages sent are counted in the reliability figures.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_figures import count
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_helpers import PING, PlayingTab, Server, start_server, stop_server

from chainrule.cli.playground import HARD_MESSAGE_LIMIT
from chainrule.web.protocol import (
    MAX_HIDDEN_LAYERS,
    MAX_MESSAGE_BYTES,
    MAX_NEURONS,
    MAX_POINTS,
    MESSAGE_BURST,
    MESSAGES,
    MESSAGES_PER_SECOND,
    ProtocolError,
    RateLimiter,
    parse_message,
)
from chainrule.web.session import DEFAULT_SETTINGS

FUZZ_SECONDS = float(os.environ.get("CHAINRULE_FUZZ_SECONDS", "15"))
LANES = 3
"""Fuzzing websockets, taken in turn: each has its own rate limit."""
SERVER_FAILURE = re.compile(
    "Exception in ASGI application|playground session error"
    "|ERROR:(?! +(Invalid UTF-8 sequence|ASGI callable returned without completing handshake))"
)
"""What the server logs when a request or a message handler fails. Two errors uvicorn logs
are not failures: the invalid UTF-8 a client sent, and "returned without completing handshake"
after the Host check has answered a websocket with its 400 (the tests check both answers)."""
ROUND = settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)

VALID: dict[str, dict[str, Any]] = {
    "config": {"settings": DEFAULT_SETTINGS},
    "play": {},
    "pause": {},
    "reset": {},
    "step": {"unit": "epoch"},
    "add_point": {"x": [0.1, 0.2], "label": 1},
    "remove_point": {"x": [0.0, 0.0], "radius": 0.5},
    "points": {"points": [[i / 4, (i % 3) / 3, i % 2] for i in range(8)]},
    "restore_data": {
        "train": [[i / 4, (i % 3) / 3, i % 3] for i in range(6)],
        "test": [[0.5, -0.5, 1]],
        "classes": ["a", "b", "c"],
    },
    "upload_csv": {"name": "a.csv", "text": "x1,x2,y\n0,0,a\n0,1,b\n1,0,b\n1,1,a\n"},
    "explain": {"subset": "train", "index": 0},
    "export": {},
    "import_model": {"name": "m.safetensors", "data": base64.b64encode(b"not a model").decode()},
    "set_weights": {"weights": [[[0.5, -0.5, 0.1]] * 8]},
    "predict": {"points": [[0.0, 0.0]]},
    "view": {"layer": 1, "neurons": [0, 1], "maps": False},
}
"""One well-formed message of each kind, for the fuzzer to break one field at a time."""
assert set(VALID) == set(MESSAGES)

HUGE_NUMBERS = ["1e308", "-1e308", "1e309", "-1e400", "5e-324", "1" + "0" * 400, "9" * 4300]
HUGE_NUMBERS += ["-" + "9" * 4301, "1" * 10_000, str(2**63), str(2**64 + 1)]
DEPTHS = [10, 100, 500, 900, 950, 970, 990, 1000, 2000, 10_000, 100_000]


@dataclass
class Attempt:
    """One fuzz message: text or binary, and whether its error must match the local decoder's
    word for word (not for deep nesting, where the server's and this process's stack depths
    decide which of two errors comes first)."""

    payload: str | bytes
    exact: bool = True


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json.dumps writes them as JSON's extensions
    | st.sampled_from([10**400, -(10**400), 2**63, 1e308, -1e308, 5e-324, -0.0])
    | st.text(max_size=20)
    | st.sampled_from(["\ud800", "\x00", "'; DROP", "../../etc/passwd", "x" * 5000])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=25,
)
kinds = st.sampled_from([*sorted(MESSAGES), "", "frame", "state", "error", "__class__", "PLAY"])
field_names = st.sampled_from(sorted({f for spec in MESSAGES.values() for f in spec} | {"type"}))


@st.composite
def broken_field(draw: st.DrawFn) -> Attempt:
    """A well-formed message with one field replaced, removed or added (settings included)."""
    kind = draw(st.sampled_from(sorted(VALID)))
    message: dict[str, Any] = {"type": kind, **json.loads(json.dumps(VALID[kind]))}
    target = message["settings"] if kind == "config" and draw(st.booleans()) else message
    name = draw(st.sampled_from(sorted(target)) | field_names | st.text(max_size=6))
    if draw(st.integers(0, 3)) == 0:
        target.pop(name, None)
    else:
        target[name] = draw(values)
    return Attempt(json.dumps(message))


@st.composite
def nested(draw: st.DrawFn) -> Attempt:
    """Lists or objects nested ``depth`` deep, as the whole message or as one field."""
    depth = draw(st.sampled_from(DEPTHS))
    inner = (
        "[" * depth + "]" * depth if draw(st.booleans()) else '{"a":' * depth + "1" + "}" * depth
    )
    template = draw(
        st.sampled_from(
            ["{}", '{{"type": "predict", "points": {}}}', '{{"type": "add_point", "x": [{}, 0]}}']
        )
    )
    return Attempt(template.format(inner), exact=depth < 500)


@st.composite
def huge_number(draw: st.DrawFn) -> Attempt:
    number = draw(st.sampled_from(HUGE_NUMBERS))
    template = draw(
        st.sampled_from(
            [
                '{{"type": "add_point", "x": [{}, 0], "label": 0}}',
                '{{"type": "add_point", "x": [0, 0], "label": {}}}',
                '{{"type": "explain", "subset": "train", "index": {}}}',
                '{{"type": "step", "unit": {}}}',
                "{}",
            ]
        )
    )
    return Attempt(template.format(number))


@st.composite
def long_text(draw: st.DrawFn) -> Attempt:
    n = draw(st.sampled_from([600_000, MAX_MESSAGE_BYTES - 80, MAX_MESSAGE_BYTES + 1, 1_500_000]))
    return Attempt(json.dumps({"type": "upload_csv", "name": "a.csv", "text": "1," * (n // 2)}))


attempts = st.one_of(
    st.sampled_from(sorted(VALID)).map(lambda k: Attempt(json.dumps({"type": k, **VALID[k]}))),
    values.map(lambda v: Attempt(json.dumps(v))),
    st.builds(
        lambda kind, fields: Attempt(json.dumps({"type": kind, **fields})),
        kinds,
        st.dictionaries(field_names | st.text(max_size=6), values, max_size=4),
    ),
    broken_field(),
    nested(),
    huge_number(),
    long_text(),
    st.text(max_size=200).map(Attempt),
    st.binary(max_size=200).map(Attempt),
)


class Pace:
    """Keep under the server's message-rate cap, so every message gets its answer."""

    def __init__(self) -> None:
        self.limiter = RateLimiter(rate=0.75 * MESSAGES_PER_SECOND, burst=MESSAGE_BURST // 4)

    def __call__(self) -> None:
        while not self.limiter.allow():
            time.sleep(0.005)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Server, list[str]]]:
    """One playground server for this module, and its stderr as it comes."""
    running = start_server()
    stderr = running.collect_stderr()
    yield running, stderr
    stop_server(running)


@contextlib.contextmanager
def open_tab(server: Server) -> Iterator[ClientConnection]:
    """A websocket from the page's own origin, past the first state and frame (no keepalive
    pings: they draw from ``random``, which hypothesis watches)."""
    with connect(
        server.ws_uri, origin=Origin(server.origin), proxy=None, max_size=2**23, ping_interval=None
    ) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "state"
        assert json.loads(ws.recv(timeout=30))["type"] == "frame"
        yield ws


def read_until(ws: ClientConnection, kind: str, n: int = 1) -> list[dict[str, Any]]:
    """Read until the ``n``-th message of ``kind``; return the errors met on the way (and it)."""
    errors = []
    while n:
        message = json.loads(ws.recv(timeout=30))
        if message["type"] == "error":
            errors.append(message)
        n -= message["type"] == kind
    return errors


def still_works(ws: ClientConnection) -> None:
    """A valid request is answered as usual."""
    ws.send(PING)
    assert read_until(ws, "prediction") == []


class Bystander:
    """Another tab training in a thread of its own while the test attacks the server."""

    def __init__(self, server: Server) -> None:
        self.tab = PlayingTab(server)
        self.thread = threading.Thread(target=asyncio.run, args=(self.tab.run(),), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while self.tab.playing_since is None:
            assert time.monotonic() < deadline and self.thread.is_alive()
            time.sleep(0.05)

    def rate(self, start: float, end: float) -> float:
        """Frames per second received in ``[start, end]``."""
        return sum(start <= t <= end for t in self.tab.frames) / (end - start)

    def __enter__(self) -> Bystander:
        return self

    def __exit__(self, *exc: object) -> None:
        self.tab.stop.set()
        self.thread.join(timeout=30)


def server_is_well(server: Server, stderr: list[str]) -> None:
    assert server.process.poll() is None
    assert server.health()["sessions"] >= 0
    assert not [line for line in stderr if SERVER_FAILURE.search(line)], "".join(stderr)


@pytest.mark.fuzz
@pytest.mark.timeout(FUZZ_SECONDS + 120)
def test_fuzzed_messages_get_errors_and_spare_the_other_tab(
    server: tuple[Server, list[str]], record_property: Callable[[str, object], None]
) -> None:
    running, stderr = server
    sent = {"messages": 0, "valid": 0}
    with Bystander(running) as bystander, contextlib.ExitStack() as stack:
        lanes = [(stack.enter_context(open_tab(running)), Pace()) for _ in range(LANES)]

        @ROUND
        @given(attempt=attempts)
        def fuzz(attempt: Attempt) -> None:
            ws, pace = lanes[sent["messages"] % LANES]
            sent["messages"] += 1
            try:
                parsed = parse_message(attempt.payload)
            except ProtocolError as err:
                pace()
                ws.send(attempt.payload)
                reply = read_until(ws, "error")[-1]["message"]
                assert not reply.startswith("internal error"), (attempt.payload[:200], reply)
                if attempt.exact:
                    assert reply == str(err), attempt.payload[:200]
                return
            # well-formed: the server acts on it (or says why not), then pauses and answers
            sent["valid"] += 1
            for message in (attempt.payload, '{"type": "pause"}', PING):
                pace()
                ws.send(message)
            errors = read_until(ws, "prediction", 1 + (parsed["type"] == "predict"))
            assert not [e for e in errors if e["message"].startswith("internal error")], errors

        solo_start = time.monotonic()
        time.sleep(2.0)  # the bystander alone
        fuzz_start = solo_end = time.monotonic()
        while time.monotonic() < fuzz_start + FUZZ_SECONDS:
            fuzz()
        fuzz_end = time.monotonic()
        for ws, _ in lanes:
            still_works(ws)
    assert bystander.tab.unexpected == []
    solo, during = bystander.rate(solo_start, solo_end), bystander.rate(fuzz_start, fuzz_end)
    gap = max(bystander.tab.gaps(fuzz_start, fuzz_end))
    figures = {
        "fuzz_messages": sent["messages"],
        "well_formed": sent["valid"],
        "seconds": round(fuzz_end - fuzz_start, 1),
        "bystander_fps_alone": round(solo, 1),
        "bystander_fps_during_fuzz": round(during, 1),
        "bystander_max_frame_gap_ms": round(1e3 * gap),
    }
    count("fuzz_executions", "web.websocket (live server)", sent["messages"])
    record_property("playground_fuzz", json.dumps(figures))
    print("playground fuzz:", json.dumps(figures))
    assert sent["messages"] > 0
    assert during > 0.5 * solo and gap < 2.0
    server_is_well(running, stderr)


NASTY: list[tuple[str | bytes, str]] = [
    ('{"type": []}', "unknown message type []; expected one of"),
    ('{"type": {"play": 1}}', 'unknown message type {"play": 1}; expected one of'),
    ('{"type": "shutdown"}', 'unknown message type "shutdown"; expected one of'),
    ('{"type": "step"}', "step is missing the field 'unit'"),
    ('{"type": "pause", "__init__": 1}', "pause has unknown field '__init__'"),
    ('{"type": "add_point", "x": [1%s, 0], "label": 0}' % ("0" * 400), "must be between -1000"),
    ('{"type": "add_point", "x": [0, 0], "label": 1%s}' % ("0" * 400), "must be between 0 and 5"),
    ('{"type": "add_point", "x": [1e309, 0], "label": 0}', "add_point.x[0] must be between"),
    ('{"type": "add_point", "x": [NaN, 0], "label": 0}', "NaN is not a number JSON allows"),
    ('{"type": "step", "unit": %s}' % ("9" * 5000), "Exceeds the limit (4300 digits)"),
    ("[" * 10_000 + "]" * 10_000, "message is not valid JSON: maximum recursion depth"),
    ('{"a":' * 10_000 + "1" + "}" * 10_000, "message is not valid JSON: maximum recursion depth"),
    (b'{"type": "play"}', "messages must be JSON text, not binary"),
]
"""Messages that made the server answer "internal error" before (or might): a named error."""


def test_nasty_messages_get_named_errors(server: tuple[Server, list[str]]) -> None:
    running, stderr = server
    with open_tab(running) as ws:
        for payload, expected in NASTY:
            ws.send(payload)
            assert expected in read_until(ws, "error")[-1]["message"], payload[:60]
        still_works(ws)
    server_is_well(running, stderr)


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:1",  # same host, another port
        "https://{host}",  # another scheme
        "http://{host}.evil.example",  # a prefix of ours
        "http://evil.example/http://{host}",
        "null",  # a sandboxed iframe or a file:// page
    ],
)
def test_foreign_origins_cannot_open_a_websocket(
    server: tuple[Server, list[str]], origin: str
) -> None:
    running, _ = server
    with (
        pytest.raises(websockets.exceptions.InvalidStatus) as refused,
        connect(running.ws_uri, origin=Origin(origin.format(host=running.host)), proxy=None),
    ):
        pass
    assert refused.value.response.status_code == 403


def test_a_rebound_host_name_cannot_open_a_websocket(server: tuple[Server, list[str]]) -> None:
    """DNS rebinding: a page of evil.example, whose name now points at 127.0.0.1, connects to
    its own origin (so the Origin matches the Host): the Host check refuses it."""
    running, _ = server
    ip, port = running.host.rsplit(":", 1)
    rebound = f"evil.example:{port}"
    with (
        socket.create_connection((ip, int(port)), timeout=10) as sock,
        pytest.raises(websockets.exceptions.InvalidStatus) as refused,
        connect(f"ws://{rebound}/ws", sock=sock, origin=Origin(f"http://{rebound}")),
    ):
        pass
    assert refused.value.response.status_code == 400
    assert refused.value.response.body == b"Invalid host header"


def test_oversized_messages(server: tuple[Server, list[str]]) -> None:
    """Over the protocol's limit: an error and the tab goes on. Over uvicorn's hard limit:
    the connection is closed with 1009 (message too big), and the server serves on."""
    running, stderr = server
    with Bystander(running) as bystander:
        start = time.monotonic()
        with open_tab(running) as ws:
            ws.send(" " * (MAX_MESSAGE_BYTES + 1))
            assert read_until(ws, "error")[-1]["message"] == (
                f"message too large: {MAX_MESSAGE_BYTES + 1:,} characters, "
                f"the limit is {MAX_MESSAGE_BYTES:,}"
            )
            still_works(ws)
        with open_tab(running) as ws:
            ws.send(b"\x00" * (HARD_MESSAGE_LIMIT + 1))
            with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
                ws.recv(timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        with open_tab(running) as ws:
            still_works(ws)
        end = time.monotonic()
    assert bystander.tab.unexpected == [] and max(bystander.tab.gaps(start, end)) < 2.0
    server_is_well(running, stderr)


def test_invalid_utf8_closes_that_connection_only(server: tuple[Server, list[str]]) -> None:
    running, stderr = server
    with open_tab(running) as ws:
        ws.send(b'{"type": "pause", "x": "\xff\xfe"}', text=True)
        with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    with open_tab(running) as ws:
        still_works(ws)
    server_is_well(running, stderr)


def test_the_message_rate_is_capped_and_the_tab_goes_on(server: tuple[Server, list[str]]) -> None:
    running, stderr = server
    view = json.dumps({"type": "view", "layer": 1, "neurons": [0, 1], "maps": False})
    flood = 3 * MESSAGE_BURST
    with open_tab(running) as ws:
        for _ in range(flood):  # each view the server takes is answered by a frame
            ws.send(view)
        replies = []
        with contextlib.suppress(TimeoutError):
            while True:
                replies.append(json.loads(ws.recv(timeout=2)))
        frames = [r for r in replies if r["type"] == "frame"]
        errors = [r["message"] for r in replies if r["type"] == "error"]
        assert MESSAGE_BURST <= len(frames) < flood and len(frames) + len(errors) == len(replies)
        assert errors and set(errors) == {"too many messages: slow down (some were ignored)"}
        still_works(ws)  # the bucket has filled up again while the replies were read
    server_is_well(running, stderr)


def test_an_expensive_request_does_not_stall_the_other_tab(
    server: tuple[Server, list[str]],
) -> None:
    """The largest epoch the limits allow (5,000 points, one at a time, through six layers of
    32) is trained in slices, so the server keeps serving the other tabs meanwhile."""
    running, stderr = server
    heaviest = {
        **DEFAULT_SETTINGS,
        "n_points": MAX_POINTS,
        "train_ratio": 1.0,
        "batch_size": 1,
        "hidden": [{"units": MAX_NEURONS, "activation": "tanh"}] * MAX_HIDDEN_LAYERS,
    }
    with Bystander(running) as bystander, open_tab(running) as ws:
        ws.send(json.dumps({"type": "config", "settings": heaviest}))
        read_until(ws, "frame", 1)
        start = time.monotonic()
        ws.send(json.dumps({"type": "step", "unit": "epoch"}))
        frame = json.loads(ws.recv(timeout=120))
        end = time.monotonic()
    assert frame["type"] == "frame" and frame["epoch"] == 1 and frame["steps"] == MAX_POINTS
    assert bystander.tab.unexpected == [] and max(bystander.tab.gaps(start, end)) < 1.0
    server_is_well(running, stderr)
