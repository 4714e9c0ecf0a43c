"""The tag pages in a real browser: browse, a tag's charts, the editor's live check, approval in the inbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.tags.facade import compute_tags, install_library
from tests.conftest import PASSWORD, need
from tests.console.seed import seed
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = pytest.mark.e2e


def _computed_library(stores: Stores) -> None:
    for role in ("marketer", "admin"):
        core_logic.create_user(stores.sessions, CLI_OPERATOR, f"{role}1", PASSWORD, role)
    seed(stores)
    install_library(stores.sessions, CLI_OPERATOR)
    assert compute_tags(stores, as_of=date(2026, 3, 31)).status == "succeeded"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path, _computed_library) as base:
        yield base


def test_browse_a_tag_then_write_a_rule_checked_as_typed_and_get_it_approved(
    server: str, tmp_path: Path
) -> None:
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
    from playwright.sync_api import Page, expect, sync_playwright

    shots = Path(os.environ.get("TAGORA_E2E_SCREENSHOTS", tmp_path))

    def sign_in(page: Page, username: str, path: str) -> None:
        page.goto(f"{server}/login?next={path.replace('/', '%2F')}")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server}{path}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
            sign_in(page, "marketer1", "/tags")
            page.get_by_label("Search tags").press_sequentially("生命")
            expect(page.locator("#tag-list tbody tr")).to_have_count(1)
            page.get_by_role("link", name="lifecycle", exact=True).click()
            expect(page).to_have_url(f"{server}/tags/lifecycle")
            expect(page.locator('[data-stat="coverage"] .stat-value')).to_have_text("50.0%")  # 2 of 4 bought
            expect(page.locator("#distribution-chart canvas").first).to_be_visible()
            expect(page.locator("#history-chart canvas").first).to_be_visible()
            page.screenshot(path=str(shots / "console-tag.png"), full_page=True)

            page.goto(f"{server}/tags/new")
            page.get_by_label("Code").fill("gold_spender")
            page.get_by_label("Chinese name").fill("高消费金卡")
            page.get_by_label("English name").fill("Gold spender")
            rule = page.locator("#rule")
            rule.fill("")
            rule.press_sequentially('member_tier = "gold" and monetary_totl > 100')
            error = page.locator("#tag-check .error")
            expect(error).to_have_attribute("data-column", "26")
            expect(error).to_contain_text("monetary_totl")
            rule.fill('member_tier = "gold" and monetary_total > 100')
            rule.press_sequentially(" ")
            expect(page.locator("#tag-check [data-valid]")).to_contain_text("monetary_total")
            page.get_by_role("button", name="Preview").click()
            expect(page.locator("#tag-preview [data-coverage]")).to_contain_text("100.0%")
            expect(page.locator("#preview-samples")).to_contain_text("C001")
            page.get_by_role("button", name="Save and submit for approval").click()
            expect(page).to_have_url(f"{server}/tags/gold_spender")
            expect(page.locator(".profile-name [data-status]")).to_have_attribute(
                "data-status", "pending_approval"
            )
            page.get_by_role("button", name="Sign out").click()

            sign_in(page, "admin1", "/tags/inbox")
            row = page.locator('#inbox tr[data-code="gold_spender"]')
            row.get_by_label("Comment").fill("looks right")
            row.get_by_role("button", name="Approve").click()
            expect(page).to_have_url(f"{server}/tags/inbox")
            expect(page.locator(".empty")).to_have_text("Nothing waits for approval.")
            page.goto(f"{server}/tags/gold_spender")
            expect(page.locator(".profile-name [data-status]")).to_have_attribute("data-status", "approved")
            expect(page.locator("#lifecycle-history")).to_contain_text("looks right")
            page.screenshot(path=str(shots / "console-tag-approved.png"), full_page=True)
        finally:
            browser.close()
