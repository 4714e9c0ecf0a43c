"""The tracking inbox on a real PostgreSQL: the migration, ``messageId`` idempotency and the loader."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from tagora.core.auth import CLI_OPERATOR
from tagora.core.clock import utcnow
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic
from tagora.ingest.tracking.loader import load_inbox

pytestmark = pytest.mark.postgres


def test_the_tracking_inbox_is_idempotent_and_loads_once_on_postgresql(pg_stores: Stores) -> None:
    assert {"tracking_inbox_calls", "tracking_dead_letters", "tracking_write_keys"} <= set(
        inspect(pg_stores.engine).get_table_names()
    )
    key_id = logic.check_write_key(
        pg_stores.sessions, logic.create_write_key(pg_stores.sessions, CLI_OPERATOR, "pg")
    )
    events = [
        {"type": "identify", "userId": "p-1", "traits": {"email": "p@example.com"}, "messageId": "i1"},
        {"type": "track", "userId": "p-1", "event": "Paid", "messageId": "t1"},
        {"type": "track", "userId": "p-1", "event": "Paid", "messageId": "t1"},
        {"type": "track", "event": "No user", "messageId": "bad"},
    ]
    for _ in range(2):
        receipt = logic.receive(pg_stores, key_id, None, events, None, utcnow(), "127.0.0.1")
        assert receipt.accepted == 3 and [r.field for r in receipt.rejected] == ["userId"]
    assert logic.backlog(pg_stores.sessions) == 6  # 3 a call: the loader keeps each messageId once
    assert load_inbox(pg_stores).loaded == 2
    assert logic.backlog(pg_stores.sessions) == 0
    rows = pg_stores.warehouse.table("events").to_pyarrow().to_pylist()
    assert sorted(r["event_id"] for r in rows) == ["i1", "t1"]
    assert len({r["uid"] for r in rows}) == 1 and rows[0]["uid"] is not None
    assert [d["field"] for d in logic.dead_letters(pg_stores.sessions)] == ["userId", "userId"]
