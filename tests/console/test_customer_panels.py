"""The customer 360 page's panels: the customer's tags grouped by category, and recommendations."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.tags.library import install_library
from tagora.tags.runs import compute_tags
from tests.console.test_pages import sign_in


def test_the_customer_page_loads_tags_by_category_and_recommendations(
    client: TestClient, stores: Stores, users: dict[str, str], seeded: dict[str, int]
) -> None:
    install_library(stores.sessions, CLI_OPERATOR)
    assert compute_tags(stores, as_of=date(2026, 3, 31)).status == "succeeded"
    sign_in(client, users["marketer"])
    page = client.get("/customers/C001").text
    assert 'hx-get="/partials/customers/C001/tags"' in page
    assert 'hx-get="/partials/customers/C001/recommendations"' in page
    panel = client.get("/partials/customers/C001/tags", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    text = panel.text
    assert 'data-category="Purchase behaviour"' in text or 'data-category="Value"' in text
    assert 'data-tag="orders_total"' in text and 'data-tag="lifecycle"' in text
    assert text.index('data-category="Demographics"') < text.index('data-tag="orders_total"')
    recs = client.get("/partials/customers/C001/recommendations", headers={"HX-Request": "true"})
    assert recs.status_code == 200 and ("recommendations" in recs.text or "No recommendations." in recs.text)
    missing = client.get("/partials/customers/NOPE/tags", headers={"HX-Request": "true"})
    assert missing.status_code == 200 and "NOPE" in missing.text
