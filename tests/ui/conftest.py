"""A real headless Chromium (Debian's package) driven by Playwright, for the dashboard
tests. Screenshots land in ``test-artifacts/`` at the repository's root."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # root in CI's containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these, Chromium calls Google's hosts, which this closed network refuses
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium (``make test`` installs it where it can). A machine without it
    fails these tests, saying so: they are never skipped."""
    found = os.environ.get("XTRACT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(found):
        raise RuntimeError(
            "the dashboard tests need Debian's Chromium: apt-get install chromium "
            "(or set XTRACT_CHROMIUM to a Chromium binary)"
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test file: Playwright's sync API runs an event loop in this
    thread while it is open, and a test file run after it in the same process
    (``make test`` hands files to two processes) may call ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=True)
    context.close()
    assert not errors, f"the page threw: {errors}"
