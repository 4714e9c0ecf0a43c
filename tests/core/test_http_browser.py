"""Under the Content-Security-Policy, in a real browser with every other host unreachable: the API docs
render from the vendored Swagger UI and ReDoc, and the console's pages and charts still work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, need
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, _sales_and_customers, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path, _sales_and_customers) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Any]:
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _offline_page(browser: Any, server: str) -> tuple[Any, list[str], list[str]]:
    """A page that can reach only the server; returns it, the console errors and the blocked requests."""
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="en-US")
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        if r.request.url.startswith(server) or r.request.url.startswith(("blob:", "data:")):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page, errors, elsewhere


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/docs", ".opblock-summary-path"), ("/redoc", "[data-section-id^='operation/']")],
)
def test_the_api_docs_render_offline_under_the_content_security_policy(
    server: str, browser: Any, path: str, rendered: str
) -> None:
    from playwright.sync_api import expect

    page, errors, elsewhere = _offline_page(browser, server)
    page.goto(f"{server}{path}")
    expect(page.locator(rendered).first).to_be_visible(timeout=30_000)
    assert page.locator(rendered).count() > 10
    assert elsewhere == []
    # ReDoc's "powered by" logo is an image on its CDN: the policy blocks it, and only it.
    blocked = [e for e in errors if "Content Security Policy" in e]
    assert [e for e in blocked if "https://cdn.redoc.ly/" not in e or "img-src" not in e] == []


def test_the_console_signs_in_and_draws_its_chart_under_the_content_security_policy(
    server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    page, errors, elsewhere = _offline_page(browser, server)
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill("sales1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/")
    expect(page.locator("#monthly-chart canvas, #monthly-chart svg").first).to_be_visible()
    page.goto(f"{server}/customers")
    page.get_by_role("searchbox").first.fill("a")  # HTMX swaps the results in as you type
    page.wait_for_timeout(800)
    assert elsewhere == []
    assert [e for e in errors if "Content Security Policy" in e] == []
