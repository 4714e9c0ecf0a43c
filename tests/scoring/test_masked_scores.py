"""Model scores name customers by key: a key made of an e-mail is masked for roles without pii:view."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import String, cast, literal, update

from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.profiles.models import Customer
from tests.conftest import login


def test_score_keys_made_of_emails_are_masked_for_a_marketer_and_shown_to_an_admin(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    with transaction(shop.sessions) as session:  # as tracking identify calls whose userId is an e-mail
        key = literal("c") + cast(Customer.uid, String) + literal("@example.com")
        session.execute(update(Customer).values(customer_key=key))
    params = {"cutoff": "2025-12-31", "horizon_days": 60, "limit": 5}
    login(client, users["marketer"])
    masked = [r["customer_key"] for r in client.get("/api/models/scores", params=params).json()]
    assert len(masked) == 5 and set(masked) == {"c***@example.com"}
    login(client, users["admin"])
    shown = [r["customer_key"] for r in client.get("/api/models/scores", params=params).json()]
    assert len(shown) == 5 and all(k.startswith("c") and k[1:-12].isdigit() for k in shown)
