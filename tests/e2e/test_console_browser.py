"""The console in a real browser: the real server, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tests.conftest import PASSWORD, make_settings, need
from tests.console.seed import seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(tmp_path: Path, prepare: Callable[[Stores], object]) -> Iterator[str]:
    """A real ``uvicorn`` serving fresh stores that ``prepare`` filled (users, data); yields its URL."""
    home = tmp_path / "home"
    settings = make_settings(home)
    stores = open_stores(settings)
    try:
        prepare(stores)
    finally:
        stores.close()  # DuckDB allows one process: the server opens the files next

    port = free_port()
    env = {
        **os.environ,
        "TAGORA_HOME": str(home),
        "TAGORA_ENV": "test",
        "TAGORA_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tagora.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _sales_and_customers(stores: Stores) -> None:
    core_logic.create_user(stores.sessions, CLI_OPERATOR, "sales1", PASSWORD, "sales")
    seed(stores)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path, _sales_and_customers) as base:
        yield base


def test_sign_in_see_the_dashboard_chart_search_and_open_a_customer(server: str, tmp_path: Path) -> None:
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("TAGORA_E2E_SCREENSHOTS", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="en-US")
            page.goto(f"{server}/customers")
            expect(page).to_have_url(f"{server}/login?next=%2Fcustomers")

            page.get_by_label("Username").fill("sales1")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server}/customers")

            page.get_by_role("link", name="Dashboard").click()
            expect(page.locator('[data-stat="customers"] .stat-value')).to_have_text("4")
            expect(page.locator('[data-stat="orders"] .stat-value')).to_have_text("4")
            expect(page.locator("#monthly-chart canvas, #monthly-chart svg").first).to_be_visible()
            page.wait_for_timeout(1200)  # let the chart's entry animation finish before the screenshot
            page.screenshot(path=str(shots / "console-dashboard.png"), full_page=True)

            page.get_by_role("link", name="Customers").click()
            rows = page.locator("#customer-results tbody tr")
            expect(rows).to_have_count(4)
            page.get_by_role("searchbox").press_sequentially("alice", delay=40)
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("Alice Wang")
            expect(rows.first).to_contain_text("138****1234")
            expect(page).to_have_url(f"{server}/customers?q=alice")
            page.screenshot(path=str(shots / "console-customers.png"))

            rows.first.get_by_role("link", name="Alice Wang").click()
            expect(page).to_have_url(f"{server}/customers/C001")
            expect(page.locator(".profile-name")).to_have_text("Alice Wang")
            expect(page.locator('[data-stat="order_count"] .stat-value')).to_have_text("2")
            expect(page.get_by_text("Personal data is masked for your role.")).to_be_visible()
            expect(page.locator(".attributes")).to_contain_text("a***@example.com")
            expect(page.locator(".timeline-item")).to_have_count(4)
            page.screenshot(path=str(shots / "console-customer.png"), full_page=True)

            page.get_by_role("button", name="中文").click()
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            expect(page.get_by_text("按您的角色权限，个人信息已脱敏显示。")).to_be_visible()
            expect(
                page.get_by_role("navigation").get_by_role("link", name="客户", exact=True)
            ).to_be_visible()
        finally:
            browser.close()
