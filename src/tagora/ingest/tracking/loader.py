"""Move the inbox to the warehouse ``events`` table exactly once, in batches, also inside the server.

Each batch: read pending calls, shape their events into warehouse rows (an event the Shaper refuses,
which the request's check should have refused already, becomes a dead letter), keep the first of each
``messageId``, insert those whose ``event_id`` the warehouse does not hold yet, then mark the calls loaded.
A crash after the insert and before the mark only means the next run finds the rows already there and
skips them, so nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby, repeat
from time import monotonic, perf_counter
from typing import Any

import msgspec
import orjson
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import delete, insert, select, update

from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.stores import EVENTS_LOADED, Stores
from tagora.core.warehouse import scratch, thread_connection
from tagora.identity.facade import link_identities, people_for, resolve_profiles
from tagora.ingest.tracking import messages
from tagora.ingest.tracking.checks import SURELY_SMALL, Checker
from tagora.ingest.tracking.logic import SOURCE_SYSTEM, TRACKER
from tagora.ingest.tracking.models import DeadLetter, InboxCall, InboxEvent
from tagora.ingest.tracking.schemas import LoadReport
from tagora.profiles.facade import (
    EVENTS,
    attribute_anonymous_events,
    customer_keys_to_uids,
    key_uids,
    upsert_customers,
)

log = logging.getLogger(__name__)
People = tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]  # by userId, by anonymousId
CHUNK = 500  # ids per IN (...) list
PRUNE_EVERY_S = 3600.0
_TEXTS = msgspec.json.Decoder(list[msgspec.Raw])


ROW = (
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "channel",
    "sku",
    "occurred_at",
    "properties",
)


def _columns() -> dict[str, list[Any]]:
    return {name: [] for name in (*ROW, "traits")}


@dataclass
class Batch:
    """Warehouse rows to load (a list per column, in the order the events came), and what to mark done
    once they are there."""

    rows: dict[str, list[Any]] = field(default_factory=_columns)
    dead: list[dict[str, Any]] = field(default_factory=list)
    call_ids: list[int] = field(default_factory=list)
    legacy_ids: list[int] = field(default_factory=list)  # rows of the inbox before migration 0007

    def add(self, row: dict[str, Any], traits: dict[str, str] | None) -> None:
        for name, values in self.rows.items():
            values.append(traits if name == "traits" else row[name])

    def extend(self, columns: dict[str, list[Any]]) -> None:
        for name, values in self.rows.items():
            values.extend(columns[name])

    @property
    def size(self) -> int:
        return len(self.rows["message_id"])


def _next_batch(stores: Stores, batch_size: int) -> Batch | None:
    """Whole calls, about ``batch_size`` events; first any rows the old per-event inbox still holds."""
    batch = _legacy(stores, batch_size)
    if not batch.legacy_ids:
        batch = _calls(stores, batch_size)
    return batch if batch.call_ids or batch.legacy_ids else None


def _legacy(stores: Stores, batch_size: int) -> Batch:
    batch = Batch()
    columns = [InboxEvent.id, *(getattr(InboxEvent, c) for c in ROW)]
    with stores.sessions() as session:
        query = select(*columns).where(InboxEvent.loaded_at.is_(None)).order_by(InboxEvent.id)
        for row in session.execute(query.limit(batch_size)):
            batch.legacy_ids.append(row.id)
            batch.add(dict(row._mapping), None)
    return batch


def _calls(stores: Stores, batch_size: int) -> Batch:
    batch = Batch()
    with stores.sessions() as session:
        sizes = session.execute(
            select(InboxCall.id, InboxCall.events)
            .where(InboxCall.loaded_at.is_(None))
            .order_by(InboxCall.id)
            .limit(batch_size)
        ).all()
        events = 0
        for call_id, count in sizes:
            if batch.call_ids and events + count > batch_size:
                break
            batch.call_ids.append(call_id)
            events += count
        for start in range(0, len(batch.call_ids), CHUNK):
            chunk = batch.call_ids[start : start + CHUNK]
            calls = session.scalars(select(InboxCall).where(InboxCall.id.in_(chunk)).order_by(InboxCall.id))
            for call in calls:
                _expand(call, batch)
    return batch


def _expand(call: InboxCall, batch: Batch) -> None:
    """Shape a call's events as the request would have (its time, sentAt and address).

    Each run of plain track events (most of the traffic) is shaped a column at a time once the request's
    column-wise check (``Checker.plain``) holds for the run; the other events one by one, each refusal a
    dead letter.
    """
    payload = messages.unpack(call.payload)
    try:  # each event's text too: its length bounds its size, which need not be measured then
        raws, texts = orjson.loads(payload), _TEXTS.decode(payload)
    except (orjson.JSONDecodeError, msgspec.DecodeError):
        raws, texts = messages.loads(payload), None  # JSON only Python's reader takes: measure each
    shaper = messages.Shaper(call.kind, call.sent_at, call.received_at, call.ip)
    checker = Checker(call.kind, call.sent_at, call.received_at, call.ip)
    start = 0
    for kind, run in groupby(_kinds(raws, call.kind)):
        events = raws[start : start + len(list(run))]
        run_texts = None if texts is None else texts[start : start + len(events)]
        start += len(events)
        if kind == "track" and _plain_tracks(checker, events, run_texts):
            batch.extend(shaper.tracks(events))
            continue
        for raw in events:
            try:
                shaped = shaper(raw)
            except messages.InvalidEvent as exc:
                letter = messages.dead_letter(raw, exc, call.received_at)
                batch.dead.append({**letter, "write_key_id": call.write_key_id})
                continue
            batch.add(shaped.row, shaped.traits)


def _kinds(raws: list[Any], kind: str | None) -> list[Any]:
    """Each event's type as the Shaper reads it (the endpoint's, or its own); None: not an object."""
    if kind is not None:
        return [kind] * len(raws)
    try:
        return list(map(dict.get, raws, repeat("type")))
    except TypeError:  # an event that is not an object
        return [r.get("type") if isinstance(r, dict) else None for r in raws]


def _plain_tracks(checker: Checker, events: list[Any], texts: list[msgspec.Raw] | None) -> bool:
    if texts is not None and max(map(len, texts)) <= SURELY_SMALL:
        sizes = [0] * len(events)  # each certainly within the limit (``checks.SURELY_SMALL``)
    else:
        try:
            sizes = list(map(len, map(orjson.dumps, events)))
        except TypeError:  # an integer over 64 bits or a lone surrogate: the Shaper judges each event
            return False
    return checker.plain("track", events, sizes)


def _first_of_each(ids: list[str]) -> list[int]:
    """The indexes of the first row of each ``messageId`` (a retry of a call repeats its events)."""
    first = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1), strict=True))  # the earliest index wins
    return list(range(len(ids))) if len(first) == len(ids) else sorted(first.values())


def _previous_id(properties: str | None) -> str | None:
    value = json.loads(properties or "{}").get("previousId")
    return None if value is None else str(value)[:128]


def _traits(rows: dict[str, list[Any]], indexes: list[int]) -> dict[str, dict[str, str]]:
    """Customer fields from the calls' traits, by userId; a later call's value wins."""
    users, traits = rows["user_id"], rows["traits"]
    out: dict[str, dict[str, str]] = {}
    for i in [i for i in indexes if traits[i] is not None]:
        out[users[i]] = {**out.get(users[i], {}), **traits[i]}
    return out


def _identify(
    stores: Stores,
    rows: dict[str, list[Any]],
    indexes: list[int],
    traits: dict[str, dict[str, str]],
    warehouse: BaseBackend,
) -> People:
    """Profiles for every userId (completed with identify ``traits``), links for anonymousId/alias,
    resolution; then who each event is.

    An event with a userId belongs to that user's record; one with only an anonymousId to the record
    that anonymous id was linked to (by this batch or earlier), else to nobody yet. Links are made once
    per (userId, anonymousId) pair of the batch, not once per event.
    """
    users, devices, types = rows["user_id"], rows["anonymous_id"], rows["type"]
    keys = sorted({users[i] for i in indexes} - {None})
    aliases = sorted(
        {(users[i], _previous_id(rows["properties"][i])) for i in indexes if types[i] == "alias"},
        key=lambda pair: (pair[0], pair[1] or ""),
    )
    pairs = sorted(
        {(users[i], devices[i]) for i in indexes if users[i] is not None and devices[i] is not None}
    )
    with transaction(stores.sessions) as session:
        records = customer_keys_to_uids(session, keys + [before for _, before in aliases if before])
        new = [k for k in keys if k not in records or k in traits]
        customers = [{"customer_key": k, **traits.get(k, {})} for k in new]
        if customers:
            region = stores.settings.default_region  # reads phones in traits that have no country code
            records |= upsert_customers(session, TRACKER, customers, SOURCE_SYSTEM, region)
        # A device already linked to its user's record needs no new link (nor its keyed digest again).
        linked = people_for(session, "anonymous_id", sorted({device for _, device in pairs}))
        links = [
            (records[user], "anonymous_id", device)
            for user, device in pairs
            if linked.get(device, (None, None))[1] != records[user]
        ]
        for user, before in aliases:
            record = records[user]
            if before is not None and before in records and before != user:
                links += [(record, "alias", before), (records[before], "alias", before)]
            elif before is not None:
                links.append((record, "anonymous_id", before))
        link_identities(session, links, SOURCE_SYSTEM)
    resolve_profiles(stores, TRACKER, [records[k] for k in keys], warehouse=warehouse)
    anonymous = {devices[i] for i in indexes} - {None}
    anonymous |= {a for _, kind, a in links if kind == "anonymous_id"}
    with stores.sessions() as session:
        return key_uids(session, keys), people_for(session, "anonymous_id", sorted(anonymous))


def _already_loaded(warehouse: BaseBackend, event_ids: list[str]) -> set[str]:
    """The ids the warehouse holds already: one semi-join with the batch's ids in a scratch table (an
    ``isin`` of thousands of literals cost Ibis seconds to compile, more than the rest of the batch)."""
    if not event_ids:
        return set()
    with scratch(warehouse, pa.table({"event_id": pa.array(event_ids, pa.string())})) as ids:
        events = warehouse.table("events")
        hits = events.semi_join(ids, "event_id").select("event_id").to_pyarrow()
    return set(hits["event_id"].to_pylist())


def _arrow(rows: dict[str, list[Any]], indexes: list[int], people: People) -> pa.Table:
    """The rows at ``indexes`` as the warehouse's ``events`` table, each on its owner's record."""
    every = len(indexes) == len(rows["message_id"])
    column = {name: rows[name] if every else [rows[name][i] for i in indexes] for name in ROW}
    by_key, by_device = people
    owners = [
        by_key.get(u) if u is not None else by_device.get(a)
        for u, a in zip(column["user_id"], column["anonymous_id"], strict=True)
    ]
    columns = {
        "event_id": column["message_id"],
        "uid": [o[0] if o else None for o in owners],
        "origin_uid": [o[1] if o else None for o in owners],
        **{
            name: column[name]
            for name in ("anonymous_id", "event", "occurred_at", "channel", "sku", "properties")
        },
    }
    return pa.table(columns, schema=EVENTS.to_pyarrow())


def _mark_loaded(stores: Stores, batch: Batch, at: datetime) -> None:
    """The calls are done; their dead letters are written in the same transaction, so exactly once."""
    with transaction(stores.sessions) as session:
        for model, ids in ((InboxCall, batch.call_ids), (InboxEvent, batch.legacy_ids)):
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                session.execute(update(model).where(model.id.in_(chunk)).values(loaded_at=at))
        if batch.dead:
            session.execute(insert(DeadLetter), batch.dead)


def load_inbox(
    stores: Stores,
    batch_size: int = 20_000,
    max_batches: int | None = None,
    warehouse: BaseBackend | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> LoadReport:
    """Load every pending call (or ``max_batches`` batches of about ``batch_size`` events) into the
    warehouse; ``stopping`` is asked between batches (a server stopping does not wait for a backlog)."""
    warehouse = warehouse or stores.warehouse
    started = perf_counter()
    report = LoadReport()
    while (max_batches is None or report.batches < max_batches) and not stopping():
        batch = _next_batch(stores, batch_size)
        if batch is None:
            break
        ids = batch.rows["message_id"]
        first = _first_of_each(ids)
        present = _already_loaded(warehouse, [ids[i] for i in first])
        fresh = [i for i in first if ids[i] not in present] if present else first
        # a resent identify changes nothing: only fresh rows' traits are applied
        people = _identify(stores, batch.rows, first, _traits(batch.rows, fresh), warehouse)
        if fresh:
            events = _arrow(batch.rows, fresh, people)
            warehouse.insert("events", events)
            stores.emit(EVENTS_LOADED, sorted(set(events["uid"].to_pylist()) - {None}))
        attribute_anonymous_events(warehouse, people[1])  # earlier events of devices identified now
        _mark_loaded(stores, batch, utcnow())
        report.loaded += len(fresh)
        report.already_in_warehouse += batch.size - len(fresh)
        report.dead_letters += len(batch.dead)
        report.batches += 1
    report.seconds = round(perf_counter() - started, 3)
    return report


def prune_inbox(stores: Stores, keep_days: float) -> int:
    """Delete inbox rows (calls) loaded more than ``keep_days`` ago; returns how many.

    Safe for exactly-once: a late resend of a pruned event enters the inbox again, and the loader finds
    its ``event_id`` already in the warehouse and only marks it done.
    """
    cutoff = utcnow() - timedelta(days=keep_days)
    with transaction(stores.sessions) as session:
        legacy = session.execute(delete(InboxEvent).where(InboxEvent.loaded_at < cutoff))
        calls = session.execute(delete(InboxCall).where(InboxCall.loaded_at < cutoff))
    return sum(int(getattr(r, "rowcount", 0) or 0) for r in (legacy, calls))


class BackgroundLoader:
    """Runs ``load_inbox`` every ``interval_s`` seconds in a daemon thread of the server process."""

    def __init__(self, stores: Stores, interval_s: float, batch_size: int, keep_days: float = 0) -> None:
        self.stores = stores
        self.interval_s = interval_s
        self.batch_size = batch_size
        self.keep_days = keep_days  # 0 keeps loaded inbox rows forever
        self._pruned_at: float | None = None
        self.warehouse = thread_connection(stores.warehouse)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tagora-tracking-loader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self.warehouse is not self.stores.warehouse and not self._thread.is_alive():
            self.warehouse.disconnect()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = load_inbox(
                    self.stores, self.batch_size, warehouse=self.warehouse, stopping=self._stop.is_set
                )
                if report.loaded:
                    log.info("tracking: loaded %d events in %.2f s", report.loaded, report.seconds)
                if self.keep_days > 0 and (
                    self._pruned_at is None or monotonic() - self._pruned_at >= PRUNE_EVERY_S
                ):
                    self._pruned_at = monotonic()
                    prune_inbox(self.stores, self.keep_days)
            except Exception:  # a failing load is retried on the next tick; the inbox keeps the events
                log.exception("tracking: loading the inbox failed")
            self._stop.wait(self.interval_s)
