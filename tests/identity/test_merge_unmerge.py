"""Identity resolution end to end on real SQLite + DuckDB: imports from two systems, merge, unmerge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores, open_stores
from tagora.identity import logic
from tagora.identity.models import IdentityConflict, IdentityMerge
from tagora.profiles import queries
from tests.conftest import make_settings
from tests.identity.conftest import APP, CRM, SHOP, import_facts, import_source


def person(stores: Stores, key: str) -> str:
    """The customer key of the person the record ``key`` belongs to now."""
    with stores.sessions() as session:
        return queries.find_customer(session, key).customer_key


def partition(stores: Stores) -> set[frozenset[str]]:
    keys = [k for k, *_ in CRM + SHOP + APP]
    groups: dict[str, set[str]] = {}
    for key in keys:
        groups.setdefault(person(stores, key), set()).add(key)
    return {frozenset(g) for g in groups.values()}


def facts(stores: Stores, key: str) -> dict[str, Any]:
    """What the person of ``key`` owns: order ids, event ids, interaction bodies."""
    with stores.sessions() as session:
        uid = queries.find_customer(session, key).uid
        timeline = queries.timeline(session, stores.warehouse, uid, 1, 200).items
    return {
        "orders": sorted(i.title for i in timeline if i.kind == "order"),
        "events": sorted(
            e["event_id"]
            for e in stores.warehouse.table("events").filter(lambda t: t.uid == uid).to_pyarrow().to_pylist()
        ),
        "notes": sorted(str(i.detail["body"]) for i in timeline if i.kind == "interaction"),
    }


S1_ALONE = {"orders": ["O-S1"], "events": ["E-S1", "E-anon"], "notes": ["asked about delivery"]}
EXPECTED = {
    frozenset({"C-1", "S-1", "A-9"}),
    frozenset({"C-2"}),
    frozenset({"C-3"}),
    frozenset({"C-4"}),
    frozenset({"S-2"}),
}


def test_customers_of_two_systems_merge_on_phones_and_emails_written_differently(
    stores: Stores, tmp_path: Path
) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    assert import_source(stores, tmp_path, "shop", SHOP).merged == 1  # S-1 by phone
    assert import_source(stores, tmp_path, "app", APP).merged == 1  # A-9 by e-mail
    assert partition(stores) == EXPECTED
    assert person(stores, "A-9") == "C-1"
    with stores.sessions() as session:
        conflict = session.scalars(select(IdentityConflict)).one()
    assert (conflict.type, conflict.value, conflict.reason) == ("phone", "+8613800138003", "user_id:crm")
    with stores.sessions() as session:
        counts = queries.store_counts(session, stores.warehouse)
    assert counts["customers"] == 5 and counts["merged_records"] == 2


def test_two_accounts_of_one_system_stay_apart_even_when_they_share_an_email(
    stores: Stores, tmp_path: Path
) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    import_source(stores, tmp_path, "shop", SHOP)
    report = import_source(stores, tmp_path, "shop", [("S-7", "", "", "wang.fang@example.com")])
    assert report.merged == 0 and report.identity_conflicts == 1  # S-1 (shop) is already that person
    assert person(stores, "S-7") == "S-7" and person(stores, "S-1") == "C-1"


def test_a_merge_moves_orders_events_and_notes_loaded_before_it(stores: Stores, tmp_path: Path) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    import_source(stores, tmp_path, "shop", [(k, n, "", "") for k, n, *_ in SHOP])  # no phones yet
    import_facts(stores, tmp_path)
    assert facts(stores, "S-1") == S1_ALONE
    assert facts(stores, "C-1")["orders"] == ["O-C1"]

    import_source(stores, tmp_path, "shop", SHOP)  # the shop now sends phones and e-mails
    import_source(stores, tmp_path, "app", APP)

    merged = facts(stores, "C-1")
    assert merged == facts(stores, "S-1") == facts(stores, "A-9")
    assert merged == {
        "orders": ["O-C1", "O-S1"],
        "events": ["E-C1", "E-S1", "E-anon"],  # the anonymous visit came with S-1's device
        "notes": ["asked about delivery"],
    }
    with stores.sessions() as session:
        summary = queries.order_summary(stores.warehouse, queries.find_customer(session, "C-1").uid)
    assert summary.order_count == 2 and str(summary.total_spend) == "350.00"


def test_unmerge_restores_both_profiles_with_their_own_history(stores: Stores, tmp_path: Path) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    import_source(stores, tmp_path, "shop", SHOP)
    import_source(stores, tmp_path, "app", APP)
    import_facts(stores, tmp_path)
    report = logic.unmerge_profile(stores, CLI_OPERATOR, key="S-1", comment="two different people")
    assert report.separated == 1
    assert partition(stores) == (EXPECTED - {frozenset({"C-1", "S-1", "A-9"})}) | {
        frozenset({"C-1", "A-9"}),
        frozenset({"S-1"}),
    }
    assert facts(stores, "S-1") == S1_ALONE
    assert facts(stores, "C-1") == {"orders": ["O-C1"], "events": ["E-C1"], "notes": []}
    with stores.sessions() as session:
        history = session.scalars(select(IdentityMerge).order_by(IdentityMerge.id)).all()
    assert [(m.merged_uid, m.undo_reason) for m in history if m.undone_at] == [
        (history[0].merged_uid, "unmerged")
    ]

    # The separation holds: resolving again, or importing the shop file again, does not re-merge them.
    import_source(stores, tmp_path, "shop", SHOP)
    assert person(stores, "S-1") == "S-1"
    with pytest.raises(AppError) as err:
        logic.unmerge_profile(stores, CLI_OPERATOR, key="S-1")
    assert err.value.status == 404


def test_merges_are_idempotent_and_independent_of_import_order(stores: Stores, tmp_path: Path) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    import_source(stores, tmp_path, "shop", SHOP)
    import_source(stores, tmp_path, "app", APP)
    other = open_stores(make_settings(tmp_path / "other"))
    try:
        import_source(other, tmp_path, "app", APP)
        import_source(other, tmp_path, "shop", SHOP)
        import_source(other, tmp_path, "crm", CRM)
        assert partition(other) == partition(stores) == EXPECTED
        assert person(other, "S-1") == person(stores, "S-1") == "C-1"

        def history(s: Stores) -> list[tuple[str, str, str]]:
            with s.sessions() as session:
                rows = session.scalars(select(IdentityMerge).where(IdentityMerge.undone_at.is_(None))).all()
                key = {
                    r.merged_uid: queries.find_customer(session, str(r.merged_uid)).customer_key for r in rows
                }
                return sorted((r.rule, key[r.merged_uid], r.evidence) for r in rows)

        assert history(stores) == history(other)
    finally:
        other.close()

    with stores.sessions() as session:
        before = session.scalar(select(func.count()).select_from(IdentityMerge))
    again = import_source(stores, tmp_path, "shop", SHOP)
    assert again.merged == 0
    with stores.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IdentityMerge)) == before


def test_a_manual_merge_follows_the_rules(stores: Stores, tmp_path: Path) -> None:
    import_source(stores, tmp_path, "crm", CRM)
    import_source(stores, tmp_path, "shop", SHOP)
    with pytest.raises(AppError) as err:
        logic.merge_profiles(stores, CLI_OPERATOR, "C-3", "C-4")
    assert err.value.status == 409 and "user_id of crm" in err.value.message
    assert person(stores, "C-4") == "C-4"

    logic.merge_profiles(stores, CLI_OPERATOR, "C-2", "S-2", "same person, confirmed by phone call")
    assert person(stores, "S-2") == "C-2"
    with pytest.raises(AppError) as err:
        logic.merge_profiles(stores, CLI_OPERATOR, "S-2", "C-2")
    assert err.value.status == 409
    logic.unmerge_profile(stores, CLI_OPERATOR, key="S-2")
    assert person(stores, "S-2") == "S-2"
    # A manual merge lifts the separation an unmerge left.
    logic.merge_profiles(stores, CLI_OPERATOR, "S-2", "C-2")
    assert person(stores, "S-2") == "C-2"
