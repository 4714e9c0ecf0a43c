from datetime import UTC
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores
from tagora.profiles import facade
from tests.conftest import login
from tests.profiles.seed import seed


def test_order_summary_counts_purchases_and_keeps_cancellations_apart(stores: Stores) -> None:
    uids = seed(stores)
    summary = facade.order_summary(stores.warehouse, uids["C001"])
    assert summary.order_count == 2
    assert summary.total_spend == Decimal("200.00")
    assert summary.average_order_value == Decimal("100.00")
    assert summary.cancellation_count == 1
    assert summary.cancelled_amount == Decimal("-79.50")
    assert summary.first_order_at is not None and summary.first_order_at.tzinfo is not None
    assert summary.first_order_at.astimezone(UTC).day == 1


def test_a_customer_without_orders_has_an_empty_summary(stores: Stores) -> None:
    uids = seed(stores)
    summary = facade.order_summary(stores.warehouse, uids["C003"])
    assert (summary.order_count, summary.total_spend, summary.average_order_value) == (0, Decimal("0"), None)


def test_the_timeline_merges_orders_events_and_notes_newest_first_in_pages(stores: Stores) -> None:
    uids = seed(stores)
    with stores.sessions() as session:
        first = facade.timeline(session, stores.warehouse, uids["C001"], page=1, page_size=3)
        second = facade.timeline(session, stores.warehouse, uids["C001"], page=2, page_size=3)
    assert first.total == 5
    kinds = [i.kind for i in first.items + second.items]
    assert kinds == ["cancellation", "order", "interaction", "event", "order"]
    times = [i.at for i in first.items + second.items]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    "q",
    [
        "张伟",
        "张",
        "zhang.wei@example.com",
        " Zhang.Wei@Example.COM ",
        "C001",
        "+8613812341234",
        "13812341234",
        "138 1234 1234",
        "138-1234-1234",
        "+86 (138) 1234-1234",
    ],
)
def test_search_finds_a_customer_by_name_key_or_whole_email_or_phone_in_any_format(
    stores: Stores, q: str
) -> None:
    seed(stores)
    page = facade.search_customers(stores, CLI_OPERATOR, q)
    assert [c.customer_key for c in page.items] == ["C001"]


def test_stats_count_customers_orders_lines_and_products(stores: Stores) -> None:
    seed(stores)
    with stores.sessions() as session:
        counts = facade.store_counts(session, stores.warehouse)
    assert counts["customers"] == 3
    assert counts["orders"] == 3
    assert counts["cancellations"] == 1
    assert counts["identities"] == 8  # 3 user ids, 2 phones, 3 e-mails
    assert {"order_lines", "products", "events"} <= set(counts)


def _audit(stores: Stores, action: str) -> list[AuditEntry]:
    with stores.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_sales_sees_masked_contacts_on_api_and_export_and_the_reads_are_audited(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed(stores)
    login(client, users["sales"])
    shown = client.get("/api/customers/C001").json()
    assert shown["customer"]["phone"] == "+86138****1234"
    assert shown["customer"]["email"] == "z***@example.com"
    assert shown["masked"] is True
    listed = client.get("/api/customers", params={"q": "alice"}).json()
    assert listed["items"][0]["email"] == "a***@example.com"
    export = client.get("/api/customers/export.csv").text
    assert "13812341234" not in export and "zhang.wei@" not in export
    assert "+86138****1234" in export
    assert [e.detail["masked"] for e in _audit(stores, "customer.view")] == [True]
    assert _audit(stores, "customer.export")[0].actor == users["sales"]


def test_admin_sees_full_contacts_and_the_read_is_audited(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed(stores)
    login(client, users["admin"])
    shown = client.get("/api/customers/C001").json()
    assert shown["customer"]["phone"] == "+8613812341234"
    assert shown["customer"]["email"] == "zhang.wei@example.com"
    assert "13812341234" in client.get("/api/customers/export.csv").text
    views = _audit(stores, "customer.view")
    assert [(e.actor, e.detail["masked"]) for e in views] == [(users["admin"], False)]


def test_export_neutralizes_formula_cells(client: TestClient, stores: Stores, users: dict[str, str]) -> None:
    seed(stores)
    login(client, users["admin"])
    export = client.get("/api/customers/export.csv").text
    assert "'=HYPERLINK" in export


def test_api_tokens_authenticate_and_a_missing_login_is_401(client: TestClient, stores: Stores) -> None:
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    seed(stores)
    assert client.get("/api/customers").status_code == 401
    logic.create_user(stores.sessions, CLI_OPERATOR, "robot", "correct-horse-battery", "analyst")
    token = logic.issue_api_token(stores.sessions, CLI_OPERATOR, "robot", "ci")
    response = client.get("/api/customers/C002", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["customer"]["email"] == "a***@example.com"
    assert client.get("/api/customers", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_bad_input_is_a_4xx_naming_the_field(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed(stores)
    login(client, users["sales"])
    bad_page = client.get("/api/customers", params={"page": "zero"})
    assert bad_page.status_code == 422
    assert bad_page.json()["error"]["data"]["errors"][0]["field"] == "page"
    missing = client.get("/api/customers/NOPE")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad_kind = client.post("/api/customers/C001/interactions", json={"kind": "fax", "body": "x"})
    assert bad_kind.status_code == 422 and bad_kind.json()["error"]["data"]["field"] == "kind"
    no_body = client.post("/api/customers/C001/interactions", json={"kind": "note"})
    assert no_body.status_code == 422 and no_body.json()["error"]["data"]["errors"][0]["field"] == "body"


def test_roles_without_the_permission_are_forbidden(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed(stores)
    login(client, users["analyst"])
    response = client.post("/api/customers/C001/interactions", json={"kind": "note", "body": "hi"})
    assert response.status_code == 403
    assert response.json()["error"]["data"]["permission"] == "interactions:write"


def test_timeline_reads_are_audited_and_keys_with_slashes_resolve(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    from tagora.core.auth import CLI_OPERATOR
    from tagora.core.db import transaction
    from tagora.profiles import logic

    seed(stores)
    with transaction(stores.sessions) as session:
        logic.upsert_customers(session, CLI_OPERATOR, [{"customer_key": "shop/42", "name": "Slash"}], "test")
    login(client, users["sales"])
    assert client.get("/api/customers/C001/timeline").json()["total"] == 5
    shown = client.get("/api/customers/shop/42").json()
    assert shown["customer"]["name"] == "Slash", shown
    assert client.get("/api/customers/shop/42/timeline").json()["total"] == 0
    assert [e.actor for e in _audit(stores, "customer.timeline")] == [users["sales"], users["sales"]]


def test_a_note_with_contacts_is_masked_on_the_timeline_unless_the_viewer_may_see_personal_data(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    from tagora.core.auth import CLI_OPERATOR
    from tagora.profiles import logic
    from tagora.profiles.schemas import InteractionCreate

    seed(stores)
    body = "wants a call back on 13912345678 or zw@example.com"
    logic.add_interaction(stores.sessions, CLI_OPERATOR, "C001", InteractionCreate(kind="call", body=body))

    def timeline() -> tuple[list[str], list[dict[str, object]]]:
        items = client.get("/api/customers/C001/timeline").json()["items"]
        notes = [i["detail"]["body"] for i in items if i["kind"] == "interaction"]
        return notes, [i for i in items if i["kind"] != "interaction"]

    login(client, users["sales"])
    notes, others = timeline()
    assert notes == ["wants a call back on 139****5678 or z***@example.com", "asked about sizes"]
    login(client, users["admin"])
    assert timeline() == ([body, "asked about sizes"], others)  # orders and events read the same
    assert [e.detail["masked"] for e in _audit(stores, "customer.timeline")] == [True, False]
