"""The segment builder in a real browser: the count follows the typing, a saved segment shows its portrait."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tests.audiences.test_segments_api import GOLD, seed
from tests.conftest import PASSWORD, need
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = pytest.mark.e2e


def _marketer_and_tags(stores: Stores) -> None:
    core_logic.create_user(stores.sessions, CLI_OPERATOR, "marketer1", PASSWORD, "marketer")
    seed(stores)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path, _marketer_and_tags) as base:
        yield base


def test_the_live_count_follows_the_conditions_and_a_saved_segment_has_a_portrait(
    server: str, tmp_path: Path
) -> None:
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("TAGORA_E2E_SCREENSHOTS", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
            page.goto(f"{server}/login?next=%2Fsegments")
            page.get_by_label("Username").fill("marketer1")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server}/segments")

            box = page.locator("#expression")
            box.fill(json.dumps(GOLD))
            box.press("End")
            box.press_sequentially(" ")  # a keystroke triggers the (debounced) live count
            expect(page.locator("[data-count]")).to_have_attribute("data-count", "10")
            both = {"all": [GOLD, {"tag": "orders_90d", "op": ">=", "value": 3}]}
            box.fill(json.dumps(both))
            box.press_sequentially(" ")
            expected = sum(1 for i in range(40) if i % 4 == 0 and i % 7 >= 3)
            expect(page.locator("[data-count]")).to_have_attribute("data-count", str(expected))
            box.fill('{"tag": "tier", "op": "~"}')
            box.press_sequentially(" ")
            expect(page.locator("#live-count .error")).to_contain_text("op")

            box.fill(json.dumps(GOLD))
            page.get_by_label("Code").fill("gold")
            page.get_by_label("Name", exact=True).fill("Gold members")
            page.get_by_role("button", name="Save segment").click()
            expect(page).to_have_url(f"{server}/segments/gold")
            expect(page.locator('[data-stat="size"] .stat-value')).to_have_text("10")
            expect(page.locator("#tgi-chart canvas").first).to_be_visible()
            expect(page.locator("#province-map")).to_have_attribute("data-drawn", "1")  # all gold: 浙江
            expect(page.locator("#province-map canvas").first).to_be_visible()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(shots / "console-segment.png"), full_page=True)
        finally:
            browser.close()
