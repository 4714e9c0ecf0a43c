"""The console's identity graph page: records, masked identities, merge history, merge and unmerge."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tagora.core.stores import Stores
from tests.console.test_pages import csrf_of, sign_in
from tests.identity.conftest import APP, CRM, SHOP, import_source
from tests.identity.test_merge_unmerge import person


def _import(stores: Stores, tmp_path: Path) -> None:
    for system, rows in (("crm", CRM), ("shop", SHOP), ("app", APP)):
        import_source(stores, tmp_path, system, rows)


def test_a_marketer_sees_the_graph_masked_and_cannot_unmerge(
    client: TestClient, stores: Stores, users: dict[str, str], tmp_path: Path
) -> None:
    _import(stores, tmp_path)
    sign_in(client, users["marketer"])
    html = client.get("/customers/S-1").text
    assert 'href="/identity/S-1"' in html
    page = client.get("/identity/S-1").text
    assert "C-1" in page and "A-9" in page and "+86138****8001" in page
    assert "+8613800138001" not in page
    assert "Unmerge" not in page
    forbidden = client.post(
        "/identity/unmerge", data={"merge_id": "1", "key": "C-1", "csrf": csrf_of(client, "/")}
    )
    assert forbidden.status_code == 403


def test_an_admin_unmerges_and_merges_from_the_page(
    client: TestClient, stores: Stores, users: dict[str, str], tmp_path: Path
) -> None:
    _import(stores, tmp_path)
    sign_in(client, users["admin"])
    page = client.get("/identity/C-1").text
    assert "+8613800138001" in page
    merge_ids = re.findall(r'name="merge_id" value="(\d+)"', page)
    assert len(merge_ids) == 2
    token = csrf_of(client, "/identity/C-1")
    stale = client.post("/identity/unmerge", data={"merge_id": merge_ids[0], "key": "C-1", "csrf": "x"})
    assert stale.status_code == 403
    done = client.post(
        "/identity/unmerge",
        data={"merge_id": merge_ids[0], "key": "C-1", "csrf": token, "comment": "different people"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/identity/C-1?done=unmerged"
    assert "split back out" in client.get(done.headers["location"]).text
    assert sorted(person(stores, k) for k in ("S-1", "A-9")).count("C-1") == 1

    refused = client.post("/identity/merge", data={"a": "C-3", "b": "C-4", "csrf": token})
    assert refused.status_code == 409 and "cannot be merged" in refused.text
    merged = client.post(
        "/identity/merge", data={"a": "C-2", "b": "S-2", "csrf": token}, follow_redirects=False
    )
    assert merged.status_code == 303
    assert person(stores, "S-2") == "C-2"
