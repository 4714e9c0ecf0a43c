"""The editor's helpers over HTTP: rule checks with positions, a draft's preview, evaluation, report."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.tags.runs import compute_tags
from tests.conftest import login
from tests.tags.conftest import AS_OF


def rule_draft(rule: str, code: str = "big_or_new") -> dict[str, Any]:
    return {
        "code": code, "name_zh": "大额或新客", "name_en": "Big or new", "category": "value", "type": "rule",
        "value_type": "boolean", "spec": {"kind": "rule", "rule": rule},
    }  # fmt: skip


def test_a_rule_is_checked_against_the_catalogue_with_the_position_of_the_error(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    login(client, users["marketer"])
    ok = client.post("/api/tags/check-rule", json={"rule": 'lifecycle = "new" and orders_90d >= 2'}).json()
    assert ok == {
        "ok": True,
        "message": "",
        "line": None,
        "column": None,
        "reads": ["lifecycle", "orders_90d"],
    }
    typo = client.post(
        "/api/tags/check-rule", json={"rule": 'lifecycle = "new" and\n  ordrs_90d >= 2'}
    ).json()
    assert not typo["ok"] and (typo["line"], typo["column"]) == (2, 3) and "ordrs_90d" in typo["message"]
    bad_value = client.post("/api/tags/check-rule", json={"rule": 'lifecycle = "newish"'}).json()
    assert not bad_value["ok"] and bad_value["column"] == 1 and "newish" in bad_value["message"]
    syntax = client.post("/api/tags/check-rule", json={"rule": "orders_90d >= "}).json()
    assert not syntax["ok"] and syntax["message"] == "the rule ends too early" and syntax["column"] == 15
    itself = client.post(
        "/api/tags/check-rule", json={"rule": "lifecycle is set", "code": "lifecycle"}
    ).json()
    assert not itself["ok"]


def test_a_preview_estimates_coverage_and_shows_masked_sample_customers(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    with shop.sessions() as session, session.begin():
        profiles.upsert_customers(
            session,
            CLI_OPERATOR,
            [{"customer_key": "ann", "name": "Ann Lee", "phone": "13812341234"}],
            "test",
        )
    compute_tags(shop, as_of=AS_OF)
    login(client, users["marketer"])
    preview = client.post("/api/tags/preview", json=rule_draft('lifecycle = "new" or monetary_365d > 500'))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["sampled"], body["live_customers"]) == (3, 3)
    shares = {v["value"]: v["count"] for v in body["distribution"]["values"]}
    assert shares["true"] == 2  # ann is new, bob spent 1060
    assert [(s["customer_key"], s["value"]) for s in body["samples"]][:2] == [
        ("ann", "true"),
        ("bob", "true"),
    ]
    assert body["masked"] is True and body["samples"][0]["phone"] == "138****1234"  # masked as elsewhere
    login(client, users["admin"])  # may see personal data
    unmasked = client.post("/api/tags/preview", json=rule_draft('lifecycle = "new"')).json()
    assert unmasked["masked"] is False and unmasked["samples"][0]["phone"] == "13812341234"
    assert client.get("/api/tags/big_or_new").status_code == 404  # nothing was saved
    broken = client.post("/api/tags/preview", json=rule_draft("monetary_365d > 'x'"))
    assert broken.status_code == 422 and broken.json()["error"]["data"]["column"] == 1


def test_the_evaluation_and_report_routes_give_usage_and_unused_tags(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    compute_tags(shop, as_of=AS_OF)
    login(client, users["analyst"])
    evaluation = client.get("/api/tags/lifecycle/evaluation").json()
    assert evaluation["customers_with_value"] == 2 and evaluation["usage"]["rule_tags"]
    report = client.get("/api/tags/report").json()
    assert "monetary_365d" in report["unused"] and report["failing"] == []
    assert client.get("/api/tags/nope/evaluation").status_code == 404


def test_a_number_draft_previews_as_a_histogram_and_a_manual_one_has_nothing_to_compute(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    login(client, users["analyst"])
    purchases = [{"field": "kind", "value": "purchase"}]
    spend = {
        "code": "spend_all", "name_zh": "累计消费", "name_en": "Spend", "category": "purchase",
        "type": "statistical", "value_type": "number",
        "spec": {"kind": "statistical", "source": "orders", "default": 0,
                 "measure": {"fn": "sum", "field": "amount", "filters": purchases}},
    }  # fmt: skip
    body = client.post("/api/tags/preview", json=spend).json()
    assert body["coverage"] == 1.0 and body["distribution"]["mean"] == 720  # (100 + 2060 + 0) / 3
    bins = body["distribution"]["bins"]
    assert (bins[0]["low"], bins[0]["high"], bins[0]["count"], bins[-1]["count"]) == (0, 206, 2, 1)
    assert [(s["customer_key"], s["value"]) for s in body["samples"]] == [
        ("ann", "100"),
        ("bob", "2060"),
        ("cy", "0"),
    ]
    manual = {
        "code": "vip_by_hand", "name_zh": "手工VIP", "name_en": "VIP by hand", "category": "value",
        "type": "manual", "value_type": "boolean", "spec": {"kind": "manual"},
    }  # fmt: skip
    nothing = client.post("/api/tags/preview", json=manual).json()
    assert nothing["coverage"] is None and nothing["samples"] == [] and nothing["sampled"] == 3
