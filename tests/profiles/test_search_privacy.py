"""Masked means masked: searching never tells a viewer without ``pii:view`` more than the mask shows, and a
customer key, an event name or a property key made of personal data is masked like the rest of it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update

from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.db import transaction
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores, open_stores
from tagora.identity import facade as identity
from tagora.identity.models import Identity
from tagora.privacy.facade import blind_digest
from tagora.profiles import facade
from tagora.profiles.models import Customer
from tagora.recs import logic as recs
from tagora.settings import Settings, get_settings
from tests.conftest import login, run_cli
from tests.profiles.attacks import Oracle, rebuild_email, rebuild_phone
from tests.profiles.seed import _ts, seed
from tests.recs.seed import seed as recs_seed

PHONE, EMAIL = "+8613812341234", "zhang.wei@example.com"
SALES = Principal(username="sales-robot", role=Role.SALES)


def _substring_oracle(secret: str) -> Oracle:
    """What a search by case-insensitive substring answered (the behaviour this guards against)."""
    return lambda q: q.lower() in secret.lower()


def _api_oracle(client: TestClient, uid: int) -> Oracle:
    def found(q: str) -> bool:
        response = client.get("/api/customers", params={"q": q, "page_size": 200})
        assert response.status_code == 200, response.text
        return uid in [item["uid"] for item in response.json()["items"]]

    return found


def _keys(stores: Stores, q: str, actor: Principal = CLI_OPERATOR) -> list[str]:
    return [c.customer_key for c in facade.search_customers(stores, actor, q).items]


def _add(stores: Stores, *rows: dict[str, object]) -> dict[str, int]:
    with transaction(stores.sessions) as session:
        return facade.upsert_customers(session, CLI_OPERATOR, [dict(r) for r in rows], "test")


def test_the_probes_rebuild_a_phone_and_an_email_from_a_substring_search() -> None:
    # The attacks work: against a substring search (the old /api/customers?q=) they rebuild both values.
    assert rebuild_phone("+86138****1234", _substring_oracle(PHONE)) == (PHONE, 14)
    email, asked = rebuild_email("z***@example.com", _substring_oracle(EMAIL))
    assert email == EMAIL and asked > 100


def test_a_sales_user_cannot_rebuild_a_masked_phone_or_email_by_searching(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    uids = seed(stores)
    login(client, users["sales"])
    shown = client.get("/api/customers/C001").json()["customer"]
    assert (shown["phone"], shown["email"]) == ("+86138****1234", "z***@example.com")
    oracle = _api_oracle(client, uids["C001"])
    assert rebuild_phone(shown["phone"], oracle) == (None, 10)  # no digit gave a signal
    assert rebuild_email(shown["email"], oracle)[0] is None
    probes = ["138", "8613812", "1381234123", "1234", "zhang", "zhang.wei", "@example.com", "%", "_"]
    totals = {q: client.get("/api/customers", params={"q": q}).json()["total"] for q in probes}
    assert totals == dict.fromkeys(probes, 0)
    assert oracle(EMAIL) and oracle("138 1234 1234")  # the whole value, typed in any format, still finds


def test_names_with_wildcards_are_searched_literally(stores: Stores) -> None:
    _add(
        stores,
        {"customer_key": "K1", "name": "100% Cotton_Shop"},
        {"customer_key": "K2", "name": "100 Cotton Shop"},
        {"customer_key": "K3", "name": "back\\slash"},
    )
    assert _keys(stores, "100%") == ["K1"]
    assert _keys(stores, "cotton_shop") == ["K1"]
    assert _keys(stores, "%") == ["K1"]
    assert _keys(stores, "_") == ["K1"]
    assert _keys(stores, "k\\s") == ["K3"]
    assert _keys(stores, "cotton") == ["K1", "K2"]


def test_a_customer_key_is_matched_whole_and_never_in_part(stores: Stores) -> None:
    _add(stores, {"customer_key": "shop-1001", "name": "A"}, {"customer_key": "shop-1002", "name": "B"})
    assert _keys(stores, "shop-1001") == ["shop-1001"]
    assert _keys(stores, "shop-100") == []


def test_an_id_number_is_found_by_its_whole_value_only(stores: Stores) -> None:
    uids = _add(stores, {"customer_key": "P1", "name": "Li"})
    with transaction(stores.sessions) as session:
        identity.link_identities(session, [(uids["P1"], "id_number", "11010119900307123x")], "test")
    assert _keys(stores, "11010119900307123X") == ["P1"]
    assert _keys(stores, "11010119900307123x") == ["P1"]
    assert _keys(stores, "110101199003") == []


def test_phones_and_emails_get_their_digest_when_they_are_stored(stores: Stores) -> None:
    seed(stores)
    with stores.sessions() as session:
        rows = session.execute(select(Identity.type, Identity.value, Identity.digest)).all()
    key = identity.key_of(stores.settings)
    assert sorted((kind, digest) for kind, _, digest in rows if digest) == sorted(
        (kind, blind_digest(key, kind, value)) for kind, value, _ in rows if kind in ("phone", "email")
    )
    assert {kind for kind, _, digest in rows if digest is None} == {"user_id"}


def test_identities_stored_before_the_index_are_indexed_by_the_first_search(stores: Stores) -> None:
    seed(stores)
    with transaction(stores.sessions) as session:  # as the 0009 migration leaves an older store
        session.execute(update(Identity).values(digest=None))
    assert _keys(stores, "13812341234") == ["C001"]
    with stores.sessions() as session:
        digests = session.execute(select(Identity.type, Identity.digest)).all()
    assert all((digest is not None) == (kind in ("phone", "email")) for kind, digest in digests)


def test_a_new_secret_key_reindexes_and_the_reindex_command_recomputes_every_digest(
    settings: Settings, stores: Stores
) -> None:
    seed(stores)
    assert _keys(stores, "13812341234") == ["C001"]
    with stores.sessions() as session:
        before = set(session.scalars(select(Identity.digest).where(Identity.digest.isnot(None))))
    stores.close()
    rotated_secret = SecretStr("a-rotated-secret-key-0123456789abcdef")
    rotated = open_stores(settings.model_copy(update={"secret_key": rotated_secret}))
    try:
        assert _keys(rotated, "zhang.wei@example.com") == ["C001"]  # the search noticed the new key
        with rotated.sessions() as session:
            after = set(session.scalars(select(Identity.digest).where(Identity.digest.isnot(None))))
        assert len(after) == len(before) == 5 and not after & before
        assert identity.reindex_identities(rotated, CLI_OPERATOR) == 5
        assert _keys(rotated, "+86 138 1234 1234") == ["C001"]
    finally:
        rotated.close()


def test_the_search_audit_keeps_the_search_text_masked(stores: Stores) -> None:
    seed(stores)
    facade.search_customers(stores, CLI_OPERATOR, "zhang.wei@example.com")
    facade.search_customers(stores, SALES, "13812341234")
    with stores.sessions() as session:
        logged = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.search")))
    searched = [(e.detail["q"], e.detail["hits"]) for e in logged]
    assert searched == [("z***@example.com", 1), ("138****1234", 1)]


def _key_customers(stores: Stores) -> dict[str, int]:
    """Customers whose keys are an e-mail and a phone, as a tracking ``identify`` with such a userId makes."""
    return _add(
        stores,
        {"customer_key": "wang.fang@example.com", "name": "王芳", "city": "Hangzhou"},
        {"customer_key": "13912345678", "name": "Phone Key", "city": "Hangzhou"},
    )


def test_a_key_made_of_an_email_or_a_phone_is_masked_for_sales_in_the_api_and_the_export(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    uids = _key_customers(stores)
    login(client, users["sales"])
    listed = client.get("/api/customers", params={"q": "王芳"}).json()["items"]
    assert [(i["uid"], i["customer_key"]) for i in listed] == [
        (uids["wang.fang@example.com"], "w***@example.com")
    ]
    shown = client.get(f"/api/customers/{uids['13912345678']}").json()
    assert shown["customer"]["customer_key"] == "139****5678"
    assert [i["value"] for i in shown["identities"]] == ["139****5678"]  # the user_id identity too
    export = client.get("/api/customers/export.csv").text
    assert "wang.fang@" not in export and "13912345678" not in export
    assert "w***@example.com" in export and "139****5678" in export
    login(client, users["admin"])
    assert client.get("/api/customers", params={"q": "王芳"}).json()["items"][0]["customer_key"] == (
        "wang.fang@example.com"
    )
    assert "wang.fang@example.com" in client.get("/api/customers/export.csv").text


def test_a_key_made_of_an_email_is_masked_for_sales_in_the_console_and_its_link_uses_the_uid(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    uids = _key_customers(stores)
    login(client, users["sales"])
    listing = client.get("/customers", params={"q": "王芳"}).text
    assert "wang.fang" not in listing and "w***@example.com" in listing
    assert f'href="/customers/{uids["wang.fang@example.com"]}"' in listing
    page = client.get(f"/customers/{uids['wang.fang@example.com']}").text
    assert "wang.fang" not in page and "w***@example.com" in page
    graph = client.get(f"/identity/{uids['wang.fang@example.com']}").text
    assert "wang.fang" not in graph and "w***@example.com" in graph
    login(client, users["admin"])
    assert 'href="/customers/wang.fang%40example.com"' in client.get("/customers", params={"q": "王芳"}).text


def test_event_names_and_property_keys_with_personal_data_are_masked_on_the_timeline(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    uids = seed(stores)
    properties = {"13912345678": "called", "contact": {"wang@example.com": True}, "price": 9.9}
    stores.warehouse.insert(
        "events",
        pa.table(
            {
                "event_id": ["e2"],
                "uid": [uids["C001"]],
                "origin_uid": [uids["C001"]],
                "anonymous_id": [None],
                "event": ["sms sent to 13912345678"],
                "occurred_at": pa.array([_ts(9)], pa.timestamp("us", tz="UTC")),
                "channel": ["sms"],
                "sku": [None],
                "properties": [json.dumps(properties)],
            },
            schema=stores.warehouse.table("events").schema().to_pyarrow(),
        ),
    )

    def newest() -> dict[str, object]:
        item: dict[str, object] = client.get("/api/customers/C001/timeline").json()["items"][0]
        return item

    login(client, users["sales"])
    masked = newest()
    assert masked["title"] == "sms sent to 139****5678"
    assert masked["detail"]["properties"] == {  # type: ignore[index]
        "139****5678": "called",
        "contact": {"w***@example.com": True},
        "price": 9.9,
    }
    login(client, users["admin"])
    shown = newest()
    assert shown["title"] == "sms sent to 13912345678"
    assert shown["detail"]["properties"] == properties  # type: ignore[index]


def test_on_postgresql_contacts_are_found_whole_and_names_with_wildcards_literally(pg_stores: Stores) -> None:
    seed(pg_stores)
    _add(
        pg_stores,
        {"customer_key": "K1", "name": "100% Cotton_Shop"},
        {"customer_key": "K2", "name": "100 Cotton"},
    )
    assert _keys(pg_stores, "138 1234 1234") == ["C001"]
    assert _keys(pg_stores, "ZHANG.WEI@example.com") == ["C001"]
    assert _keys(pg_stores, "%") == _keys(pg_stores, "_") == _keys(pg_stores, "100%") == ["K1"]
    assert _keys(pg_stores, "cotton") == ["K1", "K2"]
    oracle: Oracle = lambda q: bool(_keys(pg_stores, q, SALES))  # noqa: E731
    assert rebuild_phone("+86138****1234", oracle)[0] is None
    assert rebuild_email("z***@example.com", oracle)[0] is None
    assert [c.customer_key for c in facade.search_customers(pg_stores, SALES, "C001").items] == ["C001"]


def test_the_cli_finds_a_whole_phone_and_reindexes(cli_home: Path) -> None:
    opened = open_stores(get_settings())
    try:
        seed(opened)
    finally:
        opened.close()
    found = json.loads(run_cli("customers", "search", "138 1234 1234", "--json"))
    assert [c["customer_key"] for c in found["items"]] == ["C001"]
    assert json.loads(run_cli("customers", "search", "1381234", "--json"))["total"] == 0
    assert json.loads(run_cli("customers", "reindex", "--json")) == {"indexed": 5}


def test_a_key_made_of_an_email_is_masked_in_the_recommendations_export_for_sales(
    stores: Stores, tmp_path: Path
) -> None:
    uids = recs_seed(stores)
    with transaction(stores.sessions) as session:  # as if KC00 had come from identify(userId=<e-mail>)
        session.execute(
            update(Customer).where(Customer.uid == uids["KC00"]).values(customer_key="kc.zero@example.com")
        )
    recs.train_model(stores, CLI_OPERATOR, "popularity")
    recs.export_recommendations(stores, SALES, tmp_path / "sales.csv", n=1)
    recs.export_recommendations(stores, CLI_OPERATOR, tmp_path / "admin.csv", n=1)
    sales, admin = ((tmp_path / f"{who}.csv").read_text(encoding="utf-8-sig") for who in ("sales", "admin"))
    assert "kc.zero@" not in sales and "k***@example.com" in sales and "KC01" in sales
    assert "kc.zero@example.com" in admin


def test_a_tracked_identify_whose_user_id_is_an_email_gives_a_key_masked_for_sales(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    from tagora.ingest.facade import create_write_key
    from tagora.ingest.tracking.loader import load_inbox

    auth = "Basic " + base64.b64encode(f"{create_write_key(stores, CLI_OPERATOR, 'web')}:".encode()).decode()
    user = "li.na@example.com"
    identify = {"userId": user, "traits": {"name": "李娜", "phone": "13712345678"}}
    track = {"userId": user, "event": "sms to 13712345678", "properties": {user: 1}}
    for path, body in (("/v1/identify", identify), ("/v1/track", track)):
        response = client.post(path, json={**body, "messageId": path}, headers={"Authorization": auth})
        assert response.status_code == 200, response.text
    load_inbox(stores)
    login(client, users["sales"])
    (found,) = client.get("/api/customers", params={"q": "李娜"}).json()["items"]
    assert (found["customer_key"], found["phone"]) == ("l***@example.com", "137****5678")
    assert client.get("/api/customers", params={"q": "137 1234 5678"}).json()["items"] == [found]
    items = client.get(f"/api/customers/{found['uid']}/timeline").json()["items"]
    (event,) = [i for i in items if i["kind"] == "event" and i["title"].startswith("sms")]
    assert event["title"] == "sms to 137****5678"
    assert event["detail"]["properties"]["properties"] == {"l***@example.com": 1}
    assert "li.na@" not in json.dumps(items) and "13712345678" not in json.dumps(items)
    page = client.get(f"/customers/{found['uid']}").text
    assert "li.na@" not in page and "13712345678" not in page
