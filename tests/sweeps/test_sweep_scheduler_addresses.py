"""Scheduler addresses: refused by name before any work, or one error line; never a hang.

No cluster starts here: the listeners are plain sockets in this process.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chainrule.errors import ValidationError
from chainrule.sweeps import SchedulerError, sweep


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1:8786", "no SCHEME:// in front"),
        ("foo://127.0.0.1:8786", "the scheme must be one of tcp, tls, ws, wss; got 'foo'"),
        ("inproc://x:1", "the scheme must be one of tcp, tls, ws, wss; got 'inproc'"),
        ("tcp://127.0.0.1:abc", "the port must be a number from 1 to 65535; got 'abc'"),
        ("tcp://127.0.0.1:99999", "the port must be a number from 1 to 65535; got '99999'"),
        ("tcp://127.0.0.1:0", "the port must be a number from 1 to 65535; got '0'"),
        ("tcp://127.0.0.1", "the port must be a number from 1 to 65535; got ''"),
        ("tcp://:8786", "the host is missing"),
    ],
)
def test_a_malformed_address_is_refused_by_name_before_any_work(
    tmp_path: Path, tiny_config: Path, address: str, problem: str
) -> None:
    """Dask answered these with a ValueError or TypeError traceback (or a 10 s wait)."""
    results = tmp_path / "r.jsonl"
    with pytest.raises(ValidationError) as info:
        sweep(tiny_config, scheduler=address, results=results, connect_timeout=1)
    assert str(info.value) == (
        f"scheduler must be an address like tcp://HOST:PORT, or 'serial'; got {address!r} "
        f"({problem})"
    )
    assert not results.exists()


@pytest.mark.parametrize("scheduler", [8786, ("127.0.0.1", 8786)])
def test_a_scheduler_of_another_kind_is_refused_by_name(
    tmp_path: Path, tiny_config: Path, scheduler: object
) -> None:
    with pytest.raises(ValidationError, match=r"a distributed\.Client or a Dask cluster; got "):
        sweep(tiny_config, scheduler=scheduler, results=tmp_path / "r.jsonl")
    assert not (tmp_path / "r.jsonl").exists()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that takes connections and never says a word (a server of another protocol
    waiting for its request, as an HTTP server or the Dask dashboard does)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def chatty_listener() -> Iterator[int]:
    """A port that answers every connection with a line of another protocol, then closes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6 not a dask scheduler at all\r\n" * 4)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(5)


def run_bounded(tiny_config: Path, address: str, results: Path) -> BaseException:
    """Run the sweep in a thread, so that a hang fails the test instead of blocking it."""
    outcome: list[BaseException] = []

    def target() -> None:
        try:
            sweep(tiny_config, scheduler=address, results=results, connect_timeout=1.5)
        except BaseException as err:
            outcome.append(err)

    thread = threading.Thread(target=target, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), f"the sweep still waits on {address} after 30 s"
    assert time.monotonic() - start < 15
    assert outcome, "the sweep ran with no scheduler"
    return outcome[0]


def test_a_port_that_never_answers_is_one_error_after_the_timeout(
    tmp_path: Path, tiny_config: Path, silent_listener: int
) -> None:
    """distributed's Client bounds the connection, not the handshake: it waited forever."""
    results = tmp_path / "r.jsonl"
    torn = b'{"trial_id": "0123456789abcdef", "status": "o'
    results.write_bytes(torn)
    address = f"tcp://127.0.0.1:{silent_listener}"
    err = run_bounded(tiny_config, address, results)
    assert isinstance(err, SchedulerError), repr(err)
    assert str(err).startswith(
        f"cannot reach the Dask scheduler at {address} within 1.5 s (no Dask scheduler answered "
        "there; check the host and the port: the scheduler listens on 8786 by default, its "
        "dashboard on 8787)"
    )
    assert results.read_bytes() == torn  # untouched: not even the torn line cut off


def test_a_port_that_speaks_another_protocol_is_one_error(
    tmp_path: Path, tiny_config: Path, chatty_listener: int
) -> None:
    """Dask read the bytes as a frame length: MemoryError for exabytes, or a hang."""
    address = f"tcp://127.0.0.1:{chatty_listener}"
    err = run_bounded(tiny_config, address, tmp_path / "r.jsonl")
    assert isinstance(err, SchedulerError), repr(err)
    assert str(err).startswith(f"cannot reach the Dask scheduler at {address} within 1.5 s (")
    assert not (tmp_path / "r.jsonl").exists()


def test_tls_without_certificates_is_one_error(tmp_path: Path, tiny_config: Path) -> None:
    """Dask raised a TypeError about ssl_context, with a traceback."""
    with pytest.raises(SchedulerError) as info:
        sweep(
            tiny_config, scheduler="tls://127.0.0.1:1", results=tmp_path / "r.jsonl",
            connect_timeout=1,
        )  # fmt: skip
    message = str(info.value)
    assert message.startswith("cannot reach the Dask scheduler at tls://127.0.0.1:1 within 1 s (")
    assert "TLS" in message
    assert not (tmp_path / "r.jsonl").exists()


def test_an_ipv6_host_keeps_its_colons() -> None:
    """``tcp://[::1]`` has no port, not the port '1]'; with one, it is an address."""
    from chainrule.sweeps.runner import _address_problem

    assert _address_problem("tcp://[::1]") == "the port must be a number from 1 to 65535; got ''"
    assert _address_problem("tcp://[::1]:8786") is None
    assert _address_problem("tcp://[]:8786") == "the host is missing"
