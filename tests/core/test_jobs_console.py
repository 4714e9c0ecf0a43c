"""The console's Jobs page: progress rows that refresh while jobs run, one job's detail, cancelling it, and
who may see them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tagora.core import jobs
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tests.console.test_pages import csrf_of, sign_in
from tests.core import test_jobs  # noqa: F401  # registers the test job kinds


def test_an_admin_sees_jobs_with_their_progress_and_cancels_a_queued_one(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    queued = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.count", {"n": 1})
    done = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.count", {"n": 2})
    claimed = jobs.claim(stores.sessions, "w1", only=done.id)
    assert claimed is not None
    jobs.heartbeat(stores.sessions, done.id, "w1", 0.4, "counting <b>things</b>")
    sign_in(client, users["admin"])

    page = client.get("/jobs")
    assert page.status_code == 200
    assert f'id="job-{queued.id}"' in page.text and 'value="0.4"' in page.text
    assert "counting &lt;b&gt;things&lt;/b&gt;" in page.text  # a note is text, never markup
    assert 'hx-trigger="every 2s"' in page.text  # the rows refresh while jobs are live
    rows = client.get("/partials/jobs?status=queued")
    assert f'id="job-{queued.id}"' in rows.text and f'id="job-{done.id}"' not in rows.text
    assert client.get("/partials/jobs?status=nope").status_code == 422

    detail = client.get(f"/jobs/{queued.id}")
    assert detail.status_code == 200 and 'id="cancel-job"' in detail.text
    refused = client.post(f"/jobs/{queued.id}/cancel", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and jobs.get_job(stores.sessions, queued.id).status == "queued"
    token = csrf_of(client, f"/jobs/{queued.id}")
    cancelled = client.post(f"/jobs/{queued.id}/cancel", data={"csrf": token}, follow_redirects=False)
    assert cancelled.status_code == 303
    after = jobs.get_job(stores.sessions, queued.id)
    assert after.status == "cancelled" and after.started_at is None  # it never ran
    assert client.get("/jobs/99999").status_code == 404


def test_a_role_without_audit_read_may_not_see_jobs(client: TestClient, users: dict[str, str]) -> None:
    sign_in(client, users["marketer"])
    assert client.get("/jobs").status_code == 403
    assert client.get("/partials/jobs").status_code == 403
    assert 'href="/jobs"' not in client.get("/").text
