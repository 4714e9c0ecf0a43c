"""Tags follow identity merges: a manual tag moves to the surviving person and back on unmerge, and the
people a merge or unmerge changed get their computed tags recomputed by the server's tag worker."""

from __future__ import annotations

import time
from pathlib import Path

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.identity import logic
from tagora.profiles import facade as profiles
from tagora.tags.library import install_library
from tagora.tags.logic import assign_by_key, install_definitions, validate_draft
from tagora.tags.realtime import RealtimeTags
from tagora.tags.runs import compute_tags, runs
from tests.identity.conftest import CRM, SHOP, import_facts, import_source


def record(stores: Stores, key: str) -> int:
    with stores.sessions() as session:
        return profiles.key_uids(session, [key])[key][1]


def values(stores: Stores, uid: int) -> dict[str, object]:
    t = stores.warehouse.table("tag_values")
    rows = t.filter(t.uid == uid).select("tag", "value", "number").to_pyarrow().to_pylist()
    return {r["tag"]: r["number"] if r["value"] is None else r["value"] for r in rows}


def rows(stores: Stores, uid: int, tag: str) -> int:
    t = stores.warehouse.table("tag_values")
    return int(t.filter((t.uid == uid) & (t.tag == tag)).count().execute())


def wait_for_runs(stores: Stores, n: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [r for r in runs(stores) if r.actor == "realtime-tags" and r.status != "running"]
        if len(done) >= n:
            assert all(r.status == "succeeded" for r in done), done
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} tag runs after the identity change")


def test_tags_follow_a_merge_and_an_unmerge(stores: Stores, tmp_path: Path) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    import_source(stores, tmp_path, "shop", SHOP)
    import_facts(stores, tmp_path)
    install_library(stores.sessions, CLI_OPERATOR)
    complained = validate_draft(
        {"code": "complained", "name_zh": "投诉过", "name_en": "Complained", "category": "risk",
         "type": "manual", "value_type": "boolean", "spec": {"kind": "manual"}}
    )  # fmt: skip
    install_definitions(stores.sessions, CLI_OPERATOR, [complained], "test")
    assert compute_tags(stores).status == "succeeded"
    assign_by_key(stores, CLI_OPERATOR, "complained", [("S-2", "true")])
    c2, s2 = record(stores, "C-2"), record(stores, "S-2")
    assert values(stores, s2)["complained"] == "true" and "complained" not in values(stores, c2)
    assert values(stores, c2)["orders_total"] == values(stores, s2)["orders_total"] == 0

    worker = RealtimeTags(stores)
    worker.start()
    try:
        logic.merge_profiles(stores, CLI_OPERATOR, "C-2", "S-2", "same person")
        wait_for_runs(stores, 1)
        person = values(stores, c2)
        assert person["complained"] == "true"  # moved with its record
        assert rows(stores, c2, "orders_total") == 1  # recomputed: not its own and the moved one
        assert values(stores, s2) == {}  # the merged record holds nothing of its own now
        logic.unmerge_profile(stores, CLI_OPERATOR, key="S-2")
        wait_for_runs(stores, 2)
    finally:
        worker.stop()
    assert values(stores, s2)["complained"] == "true" and "complained" not in values(stores, c2)
    assert values(stores, s2)["orders_total"] == 0 and values(stores, c2)["orders_total"] == 0
