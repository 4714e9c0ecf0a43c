"""The loader on real SQLite + DuckDB: calls expanded and shaped, refusals dead-lettered, rows of the
per-event inbox of earlier versions drained."""

from __future__ import annotations

import orjson
from sqlalchemy import insert, select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.clock import utcnow
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic
from tagora.ingest.tracking.loader import load_inbox
from tagora.ingest.tracking.models import DeadLetter, InboxCall, InboxEvent


def new_key(stores: Stores) -> int:
    return logic.check_write_key(stores.sessions, logic.create_write_key(stores.sessions, CLI_OPERATOR, "k"))


def warehouse_ids(stores: Stores) -> list[str]:
    return sorted(stores.warehouse.table("events").event_id.to_pyarrow().to_pylist())


def test_an_event_the_loader_cannot_shape_is_dead_lettered_and_the_rest_loaded(stores: Stores) -> None:
    key_id = new_key(stores)
    events = [
        {"type": "track", "userId": "u", "event": "Fine", "messageId": "ok"},
        {"type": "track", "event": "No user", "messageId": "bad"},  # as if an older check had let it in
    ]
    with stores.sessions.begin() as session:
        session.execute(
            insert(InboxCall),
            [{"write_key_id": key_id, "kind": None, "received_at": utcnow(), "sent_at": None, "ip": None,
              "events": 2, "payload": orjson.dumps(events)}],
        )  # fmt: skip
    report = load_inbox(stores)
    assert (report.loaded, report.dead_letters) == (1, 1)
    # The dead letters are written in the transaction that marks the call done: a crash before it
    # leaves neither, and a later run finds nothing left to do.
    assert load_inbox(stores).batches == 0
    with stores.sessions() as session:
        letters = session.execute(select(DeadLetter.message_id, DeadLetter.field)).all()
    assert [tuple(r) for r in letters] == [("bad", "userId")]
    assert warehouse_ids(stores) == ["ok"]


def test_rows_left_in_the_per_event_inbox_are_loaded_before_the_calls(stores: Stores) -> None:
    now = utcnow()
    with stores.sessions.begin() as session:
        session.execute(
            insert(InboxEvent),
            [{"message_id": "old", "type": "track", "event": "Legacy", "user_id": "u", "anonymous_id": None,
              "channel": "server", "sku": None, "occurred_at": now, "received_at": now, "properties": "{}"}],
        )  # fmt: skip
    key_id = new_key(stores)
    events = [{"type": "track", "userId": "u", "event": "New", "messageId": m} for m in ("new", "old")]
    logic.receive(stores, key_id, None, events, None, now, None)
    assert logic.backlog(stores.sessions) == 3
    report = load_inbox(stores)
    assert (report.loaded, report.already_in_warehouse, report.batches) == (2, 1, 2)
    assert warehouse_ids(stores) == ["new", "old"]
    assert logic.backlog(stores.sessions) == 0


def test_a_stopping_loader_ends_between_batches_and_leaves_the_rest_in_the_inbox(stores: Stores) -> None:
    key_id = new_key(stores)
    for n in range(3):  # three calls: a batch of one call each
        events = [{"type": "track", "userId": "u", "event": "E", "messageId": f"m{n}"}]
        logic.receive(stores, key_id, None, events, None, utcnow(), None)
    asked: list[int] = []

    def stopping() -> bool:
        asked.append(1)
        return len(asked) > 1  # stop once the first batch is in

    report = load_inbox(stores, batch_size=1, stopping=stopping)
    assert (report.batches, report.loaded) == (1, 1)
    assert logic.backlog(stores.sessions) == 2 and warehouse_ids(stores) == ["m0"]
    assert load_inbox(stores).loaded == 2  # the next run takes up the rest
