"""``/api/jobs``: list, show and cancel jobs over HTTP; bad input and other roles get a clear refusal."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tagora.core import jobs
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tests.conftest import login
from tests.core import test_jobs  # noqa: F401  # registers the test job kinds


def test_an_admin_lists_shows_and_cancels_jobs(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.count", {"n": 7})
    login(client, users["admin"])
    listed = client.get("/api/jobs", params={"status": "queued"})
    assert listed.status_code == 200 and [j["id"] for j in listed.json()] == [job.id]
    shown = client.get(f"/api/jobs/{job.id}").json()
    assert shown["kind"] == "test.count" and shown["params"] == {"n": 7} and shown["created_by"] == "cli"
    cancelled = client.post(f"/api/jobs/{job.id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/jobs/{job.id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_bad_input_and_other_roles_get_a_clear_refusal(client: TestClient, users: dict[str, str]) -> None:
    assert client.get("/api/jobs").status_code == 401
    login(client, users["marketer"])
    assert client.get("/api/jobs").json()["error"]["data"]["permission"] == "audit:read"
    login(client, users["admin"])
    bad = client.get("/api/jobs", params={"status": "done"})
    assert bad.status_code == 422 and bad.json()["error"]["data"]["field"] == "status"
    assert client.get("/api/jobs", params={"limit": 0}).status_code == 422
    assert client.get("/api/jobs", params={"kind": "tags\x00compute"}).status_code == 422
    assert client.get("/api/jobs/100000000000000000000").status_code == 422  # past any id, not a 500
    assert client.get("/api/jobs/404").json()["error"]["code"] == "not_found"
