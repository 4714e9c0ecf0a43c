"""A tag's current values as a file — one row per customer (and value, for a weighted tag) — through the
one export writer: masked per role, capped per role, audited with its rows."""

from __future__ import annotations

import io

from tagora.core import audit, exports
from tagora.core.auth import Permission, Principal
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.tags import catalogue
from tagora.tags.logic import allow
from tagora.tags.models import CURRENT

EXPORT_COLUMNS = ("customer_key", "value", "weight", "computed_at", "source")
CHUNK = 5000


def export_tag_values(stores: Stores, actor: Principal, code: str, fmt: str = "csv") -> bytes:
    allow(actor, Permission.CUSTOMERS_EXPORT)
    chosen = exports.file_format(fmt, (exports.FileFormat.CSV, exports.FileFormat.XLSX))
    masked = not actor.can(Permission.PII_VIEW)
    with stores.sessions() as session:
        catalogue.latest(session, code)  # an unknown tag is a 404, not an empty file
    t = stores.warehouse.table(CURRENT)
    mine = t.filter(t.tag == code)
    values = (
        mine.order_by(["uid", mine.weight.desc(), "value"])
        .select("uid", "value", "number", "weight", "computed_at", "source")
        .to_pyarrow()
        .to_pylist()
    )
    exports.check_row_cap(stores.settings.export_max_rows, actor.role.value, len(values), "tag export")
    options = exports.ExportOptions(sheet=code[:31])
    out = io.BytesIO()
    with transaction(stores.sessions) as session:
        with exports.open_writer(out, chosen, EXPORT_COLUMNS, options) as writer:
            for start in range(0, len(values), CHUNK):
                chunk = values[start : start + CHUNK]
                uids = sorted({int(v["uid"]) for v in chunk})
                keys = {c.uid: c.customer_key for c in profiles.summaries_for(session, uids, masked)}
                for v in chunk:
                    value = v["number"] if v["value"] is None else v["value"]
                    key = keys.get(int(v["uid"]), str(v["uid"]))
                    writer.write([key, value, v["weight"], v["computed_at"], v["source"]])
        audit.record(
            session,
            actor.username,
            "tag.export",
            "tag",
            code,
            rows=len(values),
            masked=masked,
            format=chosen.value,
        )
    return out.getvalue()
