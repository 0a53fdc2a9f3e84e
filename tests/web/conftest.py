"""Fixtures for the playground tests: one server process and one Chromium per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CHROMIUM, CHROMIUM_ARGS, ROOT, Server, Tab, start_server, stop_server


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One real playground server (uvicorn) on 127.0.0.1 and a free port."""
    running = start_server()
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: test-artifacts/playground (git-ignored)."""
    folder = ROOT / "test-artifacts" / "playground"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven through Playwright's sync API (one per test process)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Tab]:
    """A fresh tab (own context) on the session's server."""
    opened = Tab(browser, server.url)
    yield opened
    opened.close()
