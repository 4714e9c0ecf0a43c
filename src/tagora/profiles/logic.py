"""Write verbs of the profiles area (and audited reads of personal data)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit, exports
from tagora.core.auth import Permission, Principal
from tagora.core.clock import as_utc
from tagora.core.db import transaction, upsert
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import Stores, load_models
from tagora.core.warehouse import remap_uids, update_from
from tagora.identity import facade as identity
from tagora.privacy.facade import mask_text, mask_values
from tagora.profiles import queries
from tagora.profiles.models import Customer, Interaction, Product
from tagora.profiles.schemas import Customer360, CustomerSummary, InteractionCreate, Page, TimelineItem

CUSTOMER_FIELDS = (
    "name", "gender", "birthday", "phone", "email", "country", "province", "city",
    "registered_at", "source_channel", "member_tier",
)  # fmt: skip
PRODUCT_FIELDS = ("name", "category_path", "brand", "price")
FREE_TEXT = {"interaction": ("body",), "event": ("properties",)}  # timeline details people or apps wrote
EXPORT_FIELDS = ("customer_key", "name", "phone", "email", "country", "province", "city", "member_tier")
IDENTITY_FIELDS = ("phone", "email")  # profile fields that are also identities of the same name
INTERACTION_KINDS = ("note", "call", "visit", "email", "message", "meeting")


def upsert_customers(
    session: Session,
    actor: Principal,
    rows: list[dict[str, Any]],
    source_system: str,
    region: str = "CN",
) -> dict[str, int]:
    """Create or complete customers by ``customer_key``; returns key -> uid (in the caller's transaction).

    Their key, phone and e-mail become identities (phones without a country code read in ``region``).
    """
    if not rows:
        return {}
    keys = [r["customer_key"] for r in rows]
    normalized = [{"customer_key": r["customer_key"], **{f: r.get(f) for f in CUSTOMER_FIELDS}} for r in rows]
    upsert(session, Customer.__table__, normalized, ["customer_key"], list(CUSTOMER_FIELDS))
    uids = queries.customer_keys_to_uids(session, keys)
    links: list[tuple[int, str, str]] = []
    for r in normalized:
        uid = uids[r["customer_key"]]
        links.append((uid, "user_id", r["customer_key"]))
        links += [(uid, field, str(r[field])) for field in IDENTITY_FIELDS if r.get(field)]
    identity.link_identities(session, links, source_system, region)
    audit.record(
        session, actor.username, "customers.upsert", "customer", "", count=len(rows), source=source_system
    )
    return uids


def upsert_products(
    session: Session, actor: Principal, rows: list[dict[str, Any]], source_system: str
) -> int:
    """Add or update products by SKU; a field a row leaves empty keeps its stored value. A row without a
    name or category path only updates a product the catalogue has (the columns may not be empty)."""
    normalized = [{"sku": r["sku"], **{f: r.get(f) for f in PRODUCT_FIELDS}} for r in rows]
    complete: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in normalized:
        if r["name"] is not None and r["category_path"] is not None:
            complete.append(r)
        else:
            given = tuple(f for f in PRODUCT_FIELDS if r[f] is not None)
            updates[given].append({"key": r["sku"], **{f: r[f] for f in given}})
    upsert(session, Product.__table__, complete, ["sku"], list(PRODUCT_FIELDS))
    for given, changes in updates.items():  # one statement per set of fields given
        if given:
            table = Product.__table__
            statement = update(table).where(table.c.sku == bindparam("key"))  # type: ignore[arg-type]
            session.execute(statement.values({f: bindparam(f) for f in given}), changes)
    if rows:
        audit.record(
            session, actor.username, "products.upsert", "product", "", count=len(rows), source=source_system
        )
    return len(rows)


def view_customer(stores: Stores, actor: Principal, key: str) -> Customer360:
    """The 360 view; masked unless the viewer has ``pii:view``. The read itself is audited."""
    masked = not actor.can(Permission.PII_VIEW)
    with transaction(stores.sessions) as session:
        customer = queries.find_customer(session, key)
        view = Customer360(
            customer=queries.present(customer, masked),
            identities=identity.identities_of(session, customer.uid),
            orders=queries.order_summary(stores.warehouse, customer.uid),
            masked=masked,
        )
        audit.record(session, actor.username, "customer.view", "customer", customer.uid, masked=masked)
    if masked:  # phones, e-mails and ID numbers are left out; keys and device ids that copy one are masked
        view.identities = [
            i.model_copy(update={"value": mask_text(i.value, stores.settings.default_region) or ""})
            for i in view.identities
            if i.type not in identity.PERSONAL_TYPES
        ]
    return view


def view_timeline(
    stores: Stores, actor: Principal, key: str, page: int = 1, page_size: int = 20
) -> Page[TimelineItem]:
    """A customer's timeline page (orders, events, CRM notes); the read is audited like the 360 view.

    Unless the viewer has ``pii:view``, phone numbers, e-mail addresses and ID numbers written in notes,
    event names and event properties (their keys too) are masked as on the profile."""
    masked = not actor.can(Permission.PII_VIEW)
    with transaction(stores.sessions) as session:
        uid = queries.find_customer(session, key).uid
        result = queries.timeline(session, stores.warehouse, uid, page, page_size)
        audit.record(
            session, actor.username, "customer.timeline", "customer", uid, page=result.page, masked=masked
        )
    if masked:
        region = stores.settings.default_region
        for item in result.items:  # only the free text: a note's body, an event's name and properties
            for name in FREE_TEXT.get(item.kind, ()):
                item.detail[name] = mask_values(item.detail.get(name), region)
            if item.kind == "event":
                item.title = mask_text(item.title, region) or ""
    return result


def _find(
    stores: Stores, session: Session, q: str, page: int, page_size: int, masked: bool
) -> Page[CustomerSummary]:
    region = stores.settings.default_region
    people = identity.people_known_by(session, identity.key_of(stores.settings), q, region)
    return queries.find_customers(session, q, page, page_size, masked=masked, people=people)


def search_customers(
    stores: Stores, actor: Principal, q: str, page: int = 1, page_size: int = 20
) -> Page[CustomerSummary]:
    """Customers by name, customer key or an exact phone, e-mail or ID number; masked per role; audited
    (the audit keeps the search text masked: the log holds no more personal data than a mask shows)."""
    masked = not actor.can(Permission.PII_VIEW)
    with transaction(stores.sessions) as session:
        result = _find(stores, session, q, page, page_size, masked)
        audit.record(
            session,
            actor.username,
            "customer.search",
            "customer",
            "",
            q=mask_text(q, stores.settings.default_region),
            hits=result.total,
            masked=masked,
        )
    return result


def export_customers(
    stores: Stores, actor: Principal, q: str = "", fmt: str = "csv", phone_format: str = "e164"
) -> bytes:
    """Matching customers as CSV or Excel through the one export writer (masked per role, formula cells
    neutralised, phones in ``phone_format``); capped per role and audited with its rows."""
    chosen = exports.file_format(fmt, (exports.FileFormat.CSV, exports.FileFormat.XLSX))
    options = exports.ExportOptions(
        phone_columns=("phone",),
        phone_format=exports.phone_format(phone_format),
        region=stores.settings.default_region,
        sheet="customers",
    )
    masked = not actor.can(Permission.PII_VIEW)
    caps = stores.settings.export_max_rows
    out = io.BytesIO()
    count = 0
    with transaction(stores.sessions) as session:
        with exports.open_writer(out, chosen, EXPORT_FIELDS, options) as writer:
            page = 1
            while True:
                chunk = _find(stores, session, q, page, queries.MAX_PAGE_SIZE, masked)
                if page == 1:  # before any row is written
                    exports.check_row_cap(caps, actor.role.value, chunk.total, "customer export")
                for item in chunk.items:
                    row = item.model_dump()
                    writer.write([row.get(f) for f in EXPORT_FIELDS])
                count += len(chunk.items)
                if count >= chunk.total or not chunk.items:
                    break
                page += 1
        audit.record(
            session,
            actor.username,
            "customer.export",
            "customer",
            "",
            q=mask_text(q, stores.settings.default_region),
            rows=count,
            masked=masked,
            format=chosen.value,
        )
    return out.getvalue()


def add_interactions(session: Session, actor: Principal, rows: list[dict[str, Any]]) -> int:
    """Bulk-add interactions (``uid, origin_uid, kind, body, author, occurred_at``) in the caller's
    transaction.

    Rows carry no id, so one with the same record, kind, time and body as a stored one is skipped.
    """
    origins = sorted({r["origin_uid"] for r in rows})
    existing = {
        (i.origin_uid, i.kind, as_utc(i.occurred_at), i.body)
        for start in range(0, len(origins), 500)
        for i in session.scalars(
            select(Interaction).where(Interaction.origin_uid.in_(origins[start : start + 500]))
        )
    }
    fresh = []
    for r in rows:
        signature = (r["origin_uid"], r["kind"], as_utc(r["occurred_at"]), r["body"])
        if signature not in existing:
            existing.add(signature)
            fresh.append(Interaction(**r))
    session.add_all(fresh)
    if fresh:
        audit.record(session, actor.username, "interactions.import", "interaction", "", count=len(fresh))
    return len(fresh)


def add_interaction(
    sessions: sessionmaker[Session], actor: Principal, key: str, data: InteractionCreate
) -> int:
    if data.kind not in INTERACTION_KINDS:
        raise AppError(
            CoreErrorCode.INVALID_INPUT,
            f"kind must be one of {', '.join(INTERACTION_KINDS)}",
            422,
            {"field": "kind"},
        )
    with transaction(sessions) as session:
        customer = queries.find_customer(session, key)
        note = Interaction(
            uid=customer.uid, origin_uid=customer.uid, kind=data.kind, body=data.body, author=actor.username
        )
        if data.occurred_at is not None:
            note.occurred_at = data.occurred_at
        session.add(note)
        session.flush()
        audit.record(session, actor.username, "interaction.add", "customer", customer.uid, kind=data.kind)
        return note.id


def reassign_profiles(session: Session, remap: dict[int, int]) -> None:
    """Identity resolution's verdict (record -> its person) applied to records and interactions.

    Runs in identity's transaction; the warehouse facts follow with ``reassign_facts`` after the commit.
    """
    for origin, person in remap.items():
        session.execute(
            update(Customer)
            .where(Customer.uid == origin)
            .values(merged_into=None if person == origin else person)
        )
        session.execute(update(Interaction).where(Interaction.origin_uid == origin).values(uid=person))


def reassign_facts(warehouse: BaseBackend, remap: dict[int, int]) -> None:
    """Every warehouse table with an ``origin_uid`` (orders, lines, events, tag values ...) follows people."""
    for table, schema in load_models().items():
        if "origin_uid" in schema.names:
            remap_uids(warehouse, table, remap)


def attribute_anonymous_events(warehouse: BaseBackend, people: dict[str, tuple[int, int]]) -> None:
    """Stitch: events that carry only an anonymous id go to ``people[anonymous_id] = (uid, origin_uid)``.

    Events already attributed keep their record, so running it again changes nothing.
    """
    if people:
        values = {
            "anonymous_id": pa.array(list(people), pa.string()),
            "uid": pa.array([u for u, _ in people.values()], pa.int64()),
            "origin_uid": pa.array([o for _, o in people.values()], pa.int64()),
        }
        update_from(warehouse, "events", pa.table(values), key="anonymous_id", only_null="origin_uid")
