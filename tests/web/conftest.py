"""Browser tests: the real server on a free loopback port, driven by Debian's Chromium (Playwright)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import PASSWORD
from tests.web.helpers import login

CHROMIUM = os.environ.get("RAPPORT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the run, or a skip with the reason."""
    reason = _browser_missing()
    if reason:
        if os.environ.get("RAPPORT_TEST_REQUIRE_BROWSER", "") not in ("", "0", "false"):
            pytest.fail(f"RAPPORT_TEST_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # assertions wait as long as a loaded machine may need

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(client: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """Sign a new user of the given role in through the login form; returns the client."""

    def sign(role: str = "admin") -> Any:
        make_user(f"ui-{role}", role)
        assert login(client, f"ui-{role}").status_code == 303
        return client

    return sign


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser tab (English, laptop-sized) on the live server."""
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 860})
    # Generous: a loaded CI machine can take seconds to serve a page; a real failure still shows.
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def sign_in_page(page: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """Sign a new user of the given role in through the login form; returns the page."""

    def sign_in(username: str = "ui-user", role: str = "admin") -> Any:
        make_user(username, role)
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/$"))
        return page

    return sign_in


def screenshot(page: Any, name: str) -> None:
    """Keep a screenshot for the README (docs/screenshots/<name>.png) when RAPPORT_TEST_SCREENSHOTS=1
    (`make screenshots`); other runs leave the committed pictures alone."""
    if os.environ.get("RAPPORT_TEST_SCREENSHOTS", "") in ("", "0", "false"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
