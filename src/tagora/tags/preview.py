"""Before publishing: check a rule as it is typed, and compute a draft for a sample of customers.

The preview runs the same expressions as a batch run (``compute.build_wide``) over an evenly spaced
sample of live customers and writes nothing: the tags a rule reads are taken from their current
values, so the estimate reflects the catalogue as it is now.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.stores import Stores
from tagora.core.warehouse import thread_connection
from tagora.profiles import facade as profiles
from tagora.tags import catalogue
from tagora.tags.compute import build_wide, long_rows, needs_products
from tagora.tags.evaluation import distribution
from tagora.tags.facts import AsOf
from tagora.tags.logic import allow, check_rules
from tagora.tags.population import PROFILES, load_products, load_profiles
from tagora.tags.rules import RuleError, compile_rule, references
from tagora.tags.runs import live_drafts, split
from tagora.tags.schemas import Distribution, RuleCheck, SampleCustomer, TagDraft, TagPreview
from tagora.tags.specs import TagValueType, WeightedSpec
from tagora.tags.weights import weighted_values

SAMPLE = 5000
SHOWN = 5
PREVIEW = "_tag_preview"


def check_rule(session: Session, text: str, code: str | None = None) -> RuleCheck:
    """Parse and type-check ``text`` against the catalogue; a failure says what and where."""
    try:
        node = compile_rule(text, catalogue.rule_catalogue(session, exclude=code))
    except RuleError as exc:
        return RuleCheck(ok=False, message=exc.message, line=exc.line, column=exc.column)
    return RuleCheck(ok=True, reads=sorted(references(node)))


def _sample(uids: list[int], size: int) -> list[int]:
    """Evenly spaced over the uid range, so old and new customers are both represented."""
    if len(uids) <= size:
        return uids
    step = len(uids) / size
    return [uids[int(i * step)] for i in range(size)]


def preview_tag(
    stores: Stores, actor: Principal, draft: TagDraft, as_of: date | None = None, sample: int = SAMPLE
) -> TagPreview:
    """Estimated coverage, distribution and a few customers (masked per role) of a draft definition."""
    allow(actor, Permission.TAGS_READ)
    day = as_of or utcnow().date()
    computed, external = split(live_drafts(stores))
    # The tags the rule reads are read as they are now, not recomputed.
    external |= {c: d.value_type for c, d in computed.items() if c != draft.code}
    external = {c: v for c, v in external.items() if v is not TagValueType.WEIGHTED}
    with stores.sessions() as session:
        check_rules(session, draft)
        everyone = profiles.live_uids(session)
    chosen = _sample(everyone, sample)
    if draft.spec.kind in ("model", "manual"):  # written by a model or by staff: nothing to compute
        return _empty(day, len(chosen), len(everyone), actor)
    # Its own connection: the scratch tables are per connection, so a run or another preview keeps its own.
    con = thread_connection(stores.warehouse)
    try:
        shape, first = _compute(stores, con, draft, AsOf(day), chosen, external)
    finally:
        if con is not stores.warehouse:
            con.disconnect()
    return TagPreview(
        as_of=day, sampled=len(chosen), live_customers=len(everyone), customers_with_value=shape.customers,
        coverage=shape.customers / len(chosen) if chosen else None, distribution=shape,
        samples=_samples(stores, actor, first), masked=not actor.can(Permission.PII_VIEW),
    )  # fmt: skip


def _compute(
    stores: Stores,
    con: BaseBackend,
    draft: TagDraft,
    as_of: AsOf,
    uids: list[int],
    external: dict[str, TagValueType],
) -> tuple[Distribution, list[dict[str, Any]]]:
    """The draft's values for ``uids`` in a scratch table: their distribution and the first rows."""
    try:
        with stores.sessions() as session:
            load_profiles(session, con, uids)
            if needs_products({draft.code: draft}):
                load_products(session, con)
        scope = con.table(PROFILES).select("uid")
        if isinstance(draft.spec, WeightedSpec):
            rows = weighted_values(con, draft.code, draft.spec, as_of, scope)
        else:
            drafts = {draft.code: draft}
            rows = long_rows(build_wide(con, drafts, as_of, scope, external), drafts)[0]
        con.create_table(PREVIEW, rows, temp=True, overwrite=True)
        values = con.table(PREVIEW)
        shape = distribution(values, draft.value_type)
        first = values.order_by(["uid", values.weight.desc()]).limit(SHOWN * 10).to_pyarrow().to_pylist()
    finally:
        for name in (PREVIEW, PROFILES):
            con.drop_table(name, force=True)
    return shape, first


def _empty(day: date, sampled: int, population: int, actor: Principal) -> TagPreview:
    return TagPreview(
        as_of=day, sampled=sampled, live_customers=population, customers_with_value=0, coverage=None,
        distribution=Distribution(customers=0), samples=[], masked=not actor.can(Permission.PII_VIEW),
    )  # fmt: skip


def _samples(stores: Stores, actor: Principal, rows: list[dict[str, Any]]) -> list[SampleCustomer]:
    """The first few customers with a value, one line each (a weighted tag shows its top value)."""
    values: dict[int, str] = {}
    for r in rows:
        uid = int(r["uid"])
        if uid not in values and len(values) < SHOWN:
            number = r["number"]
            values[uid] = str(r["value"]) if r["value"] is not None else f"{number:g}"
    with stores.sessions() as session:
        people = profiles.summaries_for(session, list(values), masked=not actor.can(Permission.PII_VIEW))
    return [
        SampleCustomer(
            uid=p.uid,
            customer_key=p.customer_key,
            name=p.name,
            phone=p.phone,
            email=p.email,
            value=values[p.uid],
        )
        for p in people
    ]
