"""Product rows that need the catalogue: a row that leaves out ``name`` or ``category_path`` updates a
product already there; for a new product it is rejected, naming the missing field."""

from __future__ import annotations

from tagora.core.stores import Stores
from tagora.ingest.files.batches import Screen, Valid
from tagora.ingest.files.schemas import RowError
from tagora.profiles.facade import known_skus

COMPLETE = ("name", "category_path")


def screen(stores: Stores) -> Screen:
    """Rejects rows of new products without a name or category path. A product is new unless the
    catalogue has it or an earlier row of the file gave both (its later rows may then leave them out)."""
    introduced: set[str] = set()

    def check(valid: Valid) -> list[RowError]:
        partial = sorted({row["sku"] for _, row in valid if not all(row.get(f) for f in COMPLETE)})
        with stores.sessions() as session:
            known = known_skus(session, [s for s in partial if s not in introduced]) | introduced
        errors = []
        for n, row in valid:
            sku = row["sku"]
            missing = [f for f in COMPLETE if not row.get(f)]
            if not missing:
                introduced.add(sku)
            elif sku not in known and sku not in introduced:
                needs = " and ".join(missing)
                message = f"{sku!r} is not in the catalogue: a new product needs {needs}"
                errors.append(
                    RowError(row=n, field=missing[0], reason="missing_value", message=message, value=sku)
                )
        return errors

    return check
