"""The tag API: catalogue, lifecycle steps, computation runs and customers' values over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.tags.library import install_library
from tagora.tags.runs import compute_tags
from tests.conftest import login
from tests.tags.conftest import AS_OF
from tests.tags.test_lifecycle import orders_90d


def test_the_api_serves_the_catalogue_lifecycle_and_values(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, users["marketer"])
    body = orders_90d().model_dump(mode="json")
    created = client.post("/api/tags", json=body, params={"comment": "please"})
    assert created.status_code == 201, created.text
    assert (
        client.post("/api/tags/orders_90d/submit", json={"comment": "ready"}).json()["status"]
        == "pending_approval"
    )
    denied = client.post("/api/tags/orders_90d/approve", json={"comment": "self-approval"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "tag_not_allowed"
    login(client, users["admin"])
    assert client.post("/api/tags/orders_90d/approve", json={}).json()["status"] == "approved"
    assert client.post("/api/tags/orders_90d/publish", json={}).json()["status"] == "published"
    revised = client.patch("/api/tags/orders_90d", json={"name_en": "Orders (90 d)", "comment": "rename"})
    assert revised.json()["version"] == 2 and revised.json()["status"] == "draft"
    assert client.get("/api/tags/orders_90d").json()["version"] == 1  # the live one
    assert [v["version"] for v in client.get("/api/tags/orders_90d/versions").json()] == [1, 2]
    history = client.get("/api/tags/orders_90d/history").json()
    assert [h["action"] for h in history][-1] == "tag.revise" and history[-1]["comment"] == "rename"
    assert client.get("/api/tags", params={"q": "90"}).json()[0]["code"] == "orders_90d"
    assert len(client.get("/api/tags/categories").json()) == 6
    bad = client.post("/api/tags", json=body | {"code": "x y", "value_type": "enum"})
    assert bad.status_code == 422 and "code" in bad.json()["error"]["message"]
    assert client.post("/api/tags/orders_90d/explode", json={}).status_code == 422
    assert client.get("/api/tags/nope").status_code == 404


def test_the_api_computes_and_returns_a_customers_tags(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    login(client, users["analyst"])
    run = client.post("/api/tags/compute", json={"tags": ["lifecycle"], "as_of": AS_OF.isoformat()})
    assert run.status_code == 200 and run.json()["status"] == "succeeded"
    assert client.get(f"/api/tags/runs/{run.json()['id']}").json()["customers"] == 3
    values = {v["tag"]: v["value"] for v in client.get("/api/tags/values", params={"customer": "ann"}).json()}
    assert values["lifecycle"] == "new" and values["recency_days"] == 0
    one = client.get("/api/tags/lifecycle/values", params={"customer": "ann", "history": True}).json()
    assert [v["value"] for v in one] == ["new"]
    assert client.get("/api/tags/values", params={"customer": "nobody"}).status_code == 404
    login(client, users["sales"])
    assert client.post("/api/tags/compute", json={}).status_code == 403


def test_a_run_with_a_failing_definition_is_recorded_as_failed(shop: Stores) -> None:
    install_library(shop.sessions, CLI_OPERATOR)
    shop.warehouse.drop_table("events")  # facts a library tag reads are gone
    run = compute_tags(shop, as_of=AS_OF)
    assert run.status == "failed" and "events" in run.errors["run"]
