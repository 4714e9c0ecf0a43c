"""The group-commit writer on real SQLite: many calls share a transaction, each answered after the commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core.auth import CLI_OPERATOR, hash_token
from tagora.core.clock import utcnow
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic
from tagora.ingest.tracking.inbox import Inbox
from tagora.ingest.tracking.logic import Overloaded
from tagora.ingest.tracking.messages import unpack
from tagora.ingest.tracking.models import InboxCall
from tagora.ingest.tracking.schemas import TrackingSettings


@pytest.fixture
def inbox(stores: Stores) -> Iterator[Inbox]:
    writer = Inbox(stores.sessions, TrackingSettings(loader_interval_s=0, max_backlog=10_000))
    writer.start()
    yield writer
    writer.stop()


def call(prefix: str, n: int = 3, **extra: Any) -> logic.Accepted:
    """A batch of ``n`` events; ``prefix`` names them and stands in for the caller's address."""
    events = [{"type": "track", "userId": "u", "event": "E", "messageId": f"{prefix}-{i}", **extra}
              for i in range(n)]  # fmt: skip
    return logic.accept(None, events, None, utcnow(), prefix)


def stored(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.sum(InboxCall.events))) or 0


def stored_ids(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return {
            e["messageId"]
            for p in session.scalars(select(InboxCall.payload))
            for e in orjson.loads(unpack(p))
        }


def count_commits(stores: Stores) -> list[int]:
    commits: list[int] = []
    event.listen(stores.engine, "commit", lambda _conn: commits.append(1))
    return commits


def test_concurrent_calls_are_committed_together_and_each_answered_after_its_commit(
    stores: Stores, inbox: Inbox
) -> None:
    key = logic.create_write_key(stores.sessions, CLI_OPERATOR, "site")
    commits = count_commits(stores)

    async def one(i: int) -> int:
        receipt = await inbox.submit(hash_token(key), call(f"c{i}"))
        with stores.sessions() as session:  # another connection already sees the call's events
            mine = session.scalar(select(InboxCall.events).where(InboxCall.ip == f"c{i}"))
        assert mine == 3
        return receipt.accepted

    async def many() -> list[int]:
        return await asyncio.gather(*(one(i) for i in range(200)))

    assert asyncio.run(many()) == [3] * 200
    assert stored(stores.sessions) == 600
    assert len(commits) < 200  # grouped: fewer transactions than calls


def test_a_bad_key_is_refused_without_holding_back_the_other_calls(stores: Stores, inbox: Inbox) -> None:
    key = logic.create_write_key(stores.sessions, CLI_OPERATOR, "site")
    logic.create_write_key(stores.sessions, CLI_OPERATOR, "old")
    logic.revoke_write_key(stores.sessions, CLI_OPERATOR, "old")

    async def both() -> list[Any]:
        good = inbox.submit(hash_token(key), call("good"))
        bad = inbox.submit(hash_token("tgw_unknown"), call("bad"))
        return await asyncio.gather(good, bad, return_exceptions=True)

    good, bad = asyncio.run(both())
    assert good.accepted == 3
    assert isinstance(bad, AppError) and bad.status == 401
    assert stored(stores.sessions) == 3


def test_a_call_that_cannot_be_stored_fails_alone(stores: Stores, inbox: Inbox) -> None:
    key = logic.create_write_key(stores.sessions, CLI_OPERATOR, "site")
    broken = call("broken")
    broken.payload = {"not": "bytes"}  # type: ignore[assignment]  # the driver cannot bind it

    async def together() -> list[Any]:
        calls = [call(f"ok{i}") for i in range(5)] + [broken]
        return await asyncio.gather(
            *(inbox.submit(hash_token(key), c) for c in calls), return_exceptions=True
        )

    results = asyncio.run(together())
    assert [r.accepted for r in results[:5]] == [3] * 5
    assert isinstance(results[5], Exception)
    ids = stored_ids(stores.sessions)
    assert not any(i.startswith("broken") for i in ids)
    assert len(ids) == 15


def test_a_full_inbox_refuses_after_an_exact_count_and_accepts_once_drained(stores: Stores) -> None:
    key = logic.create_write_key(stores.sessions, CLI_OPERATOR, "site")
    writer = Inbox(stores.sessions, TrackingSettings(loader_interval_s=0, max_backlog=5))
    writer.start()
    try:
        assert asyncio.run(writer.submit(hash_token(key), call("a", 5))).accepted == 5
        with pytest.raises(Overloaded):
            asyncio.run(writer.submit(hash_token(key), call("b", 1)))
        with stores.sessions.begin() as session:
            session.execute(InboxCall.__table__.update().values(loaded_at=utcnow()))
        assert asyncio.run(writer.submit(hash_token(key), call("b", 1))).accepted == 1
    finally:
        writer.stop()


def test_stopping_commits_and_answers_what_is_queued(stores: Stores) -> None:
    key = logic.create_write_key(stores.sessions, CLI_OPERATOR, "site")
    writer = Inbox(stores.sessions, TrackingSettings(loader_interval_s=0))

    async def queued_then_stopped() -> list[logic.Receipt]:
        pending = [asyncio.ensure_future(writer.submit(hash_token(key), call(f"s{i}"))) for i in range(10)]
        await asyncio.sleep(0)  # every call is queued before the writer starts
        writer.start()
        await asyncio.to_thread(writer.stop)
        return await asyncio.gather(*pending)

    assert [r.accepted for r in asyncio.run(queued_then_stopped())] == [3] * 10
    assert stored(stores.sessions) == 30
