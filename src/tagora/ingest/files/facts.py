"""Writing validated order lines, events and interactions: customers named, people resolved, facts stored.

Each chunk: (1) in one database transaction, bare customers for unknown keys (``--create-customers``)
and the devices events tie to customers; (2) identity resolution for those records; (3) the facts, with
``uid`` (the person now) and ``origin_uid`` (the record the file named), in one insert per warehouse
table (or in one database transaction for interactions). The warehouse shares no transaction with the
database, so every step is idempotent: order lines are keyed by (source, order_id, line_no), events by
event_id, interactions by record, kind, time and body. A chunk cut short by a crash is completed by
importing the file again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from tagora.core.auth import Principal
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.core.warehouse import scratch, update_from
from tagora.identity import facade as identity
from tagora.ingest import loading
from tagora.ingest.files.batches import Batch, Screen, Valid
from tagora.ingest.files.schemas import FileImportOptions, FileImportReport, RowError
from tagora.profiles.facade import (
    EVENTS,
    MONEY,
    ORDER_LINES,
    ORDERS,
    add_interactions,
    customer_keys_to_uids,
    key_uids,
    upsert_customers,
)

People = dict[str, tuple[int, int]]  # customer_key -> (uid of the person now, uid of the record)
ORDER_KEY = ["source", "order_id", "kind"]


def screen(stores: Stores, options: FileImportOptions) -> Screen:
    """Rejects rows whose customer_key names no customer (unless they are to be created)."""

    def check(valid: Valid) -> list[RowError]:
        if options.create_customers:
            return []
        keys = sorted({row["customer_key"] for _, row in valid if row.get("customer_key")})
        with stores.sessions() as session:
            known = customer_keys_to_uids(session, keys)
        return [
            RowError(
                row=n,
                field="customer_key",
                reason="unknown_customer",
                message=f"no customer with customer_key {row['customer_key']!r} "
                "(import customers first, or use --create-customers)",
                value=row["customer_key"],
            )
            for n, row in valid
            if row.get("customer_key") and row["customer_key"] not in known
        ]

    return check


@dataclass
class FactWriter:
    stores: Stores
    actor: Principal
    report: FileImportReport
    options: FileImportOptions

    def chunk(self, batch: Batch) -> None:
        rows = list(batch.good.values())
        if not rows:
            return
        if self.report.kind == "interactions":
            with transaction(self.stores.sessions) as session:
                created = self._interactions(session, rows)
            self._resolve(created)
        else:
            self._warehouse(rows)
        self.report.chunks_committed += 1

    def all(self, batches: Iterable[Batch]) -> None:
        """All-or-nothing, second pass. Interactions: the whole file in one transaction. Warehouse facts:
        chunk by chunk (there is no transaction spanning both stores), safe to repeat if cut short."""
        if self.report.kind != "interactions":
            for batch in batches:
                self.chunk(batch)
            return
        created: list[int] = []
        with transaction(self.stores.sessions) as session:
            for batch in batches:
                created += self._interactions(session, list(batch.good.values()))
                self.report.chunks_committed += 1
        self._resolve(created)

    # -- customers and people -------------------------------------------------------------------------

    def _records(self, session: Session, keys: list[str]) -> tuple[dict[str, int], list[int]]:
        """key -> record uid, creating bare customers for unknown keys; also the records created."""
        records = customer_keys_to_uids(session, keys)
        missing = [k for k in keys if k not in records]
        if not missing or not self.options.create_customers:
            return records, []
        made = upsert_customers(
            session, self.actor, [{"customer_key": k} for k in missing], self.report.source_system
        )
        self.report.customers_created += len(made)
        return records | made, list(made.values())

    def _resolve(self, records: list[int]) -> None:
        if records:
            resolved = identity.resolve_profiles(self.stores, self.actor, records)
            self.report.merged += resolved.merged
            self.report.identity_conflicts += resolved.conflicts

    def _people(self, keys: list[str]) -> People:
        with self.stores.sessions() as session:
            return key_uids(session, keys)

    # -- order lines and events -----------------------------------------------------------------------

    def _warehouse(self, rows: list[dict[str, Any]]) -> None:
        keys = sorted({r["customer_key"] for r in rows if r.get("customer_key")})
        pairs = sorted({(r["customer_key"], r["anonymous_id"]) for r in rows
                        if r.get("customer_key") and r.get("anonymous_id")})  # fmt: skip
        if pairs or self.options.create_customers:
            with transaction(self.stores.sessions) as session:
                records, created = self._records(session, keys)
                linked = loading.link_devices(session, pairs, records, self.report.source_system)
            self._resolve(sorted(set(created) | set(linked)))
        people = self._people(keys)
        if self.report.kind == "orders":
            self._order_lines(rows, people)
        else:
            self._events(rows, people)

    def _order_lines(self, rows: list[dict[str, Any]], people: People) -> None:
        source = self.report.source_system
        table = pa.table(
            {
                "order_id": [r["order_id"] for r in rows],
                "source": [source] * len(rows),
                "line_no": [r["line_no"] for r in rows],
                "kind": [r["kind"] for r in rows],
                "uid": [people[r["customer_key"]][0] for r in rows],
                "origin_uid": [people[r["customer_key"]][1] for r in rows],
                "ordered_at": [r["ordered_at"] for r in rows],
                "sku": [r["sku"] for r in rows],
                "quantity": [r["quantity"] for r in rows],
                "unit_price": [r["unit_price"] for r in rows],
                "amount": [r["unit_price"] * r["quantity"] for r in rows],
            },
            schema=ORDER_LINES.to_pyarrow(),
        )
        inserted, skipped = loading.insert_new(
            self.stores.warehouse, "order_lines", table, ["order_id", "line_no"], source, ORDER_LINES
        )
        self.report.records_written += inserted.num_rows
        self.report.skipped_existing += skipped
        self._orders(rows)

    def _orders(self, rows: list[dict[str, Any]]) -> None:
        """Orders summarize their stored lines, so an order split across chunks (or a re-run after a
        crash) ends up right. Channel and country come from the stored order, else this chunk's lines."""
        source, warehouse = self.report.source_system, self.stores.warehouse
        order_ids = pa.table({"order_id": pa.array(sorted({r["order_id"] for r in rows}), pa.string())})
        with scratch(warehouse, order_ids) as ids:
            lines = warehouse.table("order_lines")
            lines = lines.filter(lines.source == source).semi_join(ids, "order_id")
            totals = lines.group_by(["source", "order_id", "kind"]).aggregate(
                uid=lines.uid.min(),
                origin_uid=lines.origin_uid.min(),
                ordered_at=lines.ordered_at.min(),
                line_count=lines.count(),
                amount=lines.amount.sum().cast(MONEY),
            )
            stored = warehouse.table("orders")
            stored = stored.filter(stored.source == source).semi_join(ids, "order_id")
            summed, before_rows = totals.to_pyarrow().to_pylist(), stored.to_pyarrow().to_pylist()
        before = {(o["order_id"], o["kind"]): o for o in before_rows}
        firsts: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            firsts.setdefault((r["order_id"], r["kind"]), r)
        fresh, changed = [], []
        for order in summed:
            key = (order["order_id"], order["kind"])
            old, first = before.get(key), firsts.get(key, {})
            order["channel"] = (old or {}).get("channel") or first.get("channel")
            order["country"] = (old or {}).get("country") or first.get("country")
            if old is None:
                fresh.append(order)
            elif any(old[c] != order[c] for c in ORDERS.names):
                changed.append(order)
        schema = ORDERS.to_pyarrow()
        if fresh:
            with scratch(warehouse, pa.Table.from_pylist(fresh, schema=schema)) as new:
                warehouse.insert("orders", new)
        if changed:
            update_from(warehouse, "orders", pa.Table.from_pylist(changed, schema=schema), ORDER_KEY)
        self.report.orders_created += len(fresh)
        self.report.orders_updated += len(changed)

    def _events(self, rows: list[dict[str, Any]], people: People) -> None:
        known = [people.get(r["customer_key"]) if r.get("customer_key") else None for r in rows]
        table = pa.table(
            {
                "event_id": [r["event_id"] for r in rows],
                "uid": [p[0] if p else None for p in known],
                "origin_uid": [p[1] if p else None for p in known],
                "anonymous_id": [r["anonymous_id"] for r in rows],
                "event": [r["event"] for r in rows],
                "occurred_at": [r["occurred_at"] for r in rows],
                "channel": [r["channel"] for r in rows],
                "sku": [r["sku"] for r in rows],
                "properties": [r["properties"] for r in rows],
            },
            schema=EVENTS.to_pyarrow(),
        )
        inserted, skipped = loading.insert_new(
            self.stores.warehouse, "events", table, ["event_id"], None, EVENTS
        )
        self.report.records_written += inserted.num_rows
        self.report.skipped_existing += skipped
        loading.stitch_anonymous(self.stores, inserted)

    # -- interactions ---------------------------------------------------------------------------------

    def _interactions(self, session: Session, rows: list[dict[str, Any]]) -> list[int]:
        """Adds the rows in the caller's transaction; returns the customer records it created."""
        if not rows:
            return []
        keys = sorted({r["customer_key"] for r in rows})
        _records, created = self._records(session, keys)
        people = key_uids(session, keys)
        facts = [
            {
                "uid": people[r["customer_key"]][0],
                "origin_uid": people[r["customer_key"]][1],
                "kind": r["kind"],
                "body": r["body"],
                "author": r["author"],
                "occurred_at": r["occurred_at"],
            }
            for r in rows
        ]
        added = add_interactions(session, self.actor, facts)
        self.report.records_written += added
        self.report.skipped_existing += len(rows) - added
        return created
