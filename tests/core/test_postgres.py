"""The metadata store on a real PostgreSQL: migrations, upserts, the 360 view and the audit log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores
from tagora.profiles import logic
from tests.profiles.seed import CUSTOMERS, seed

pytestmark = pytest.mark.postgres


def test_migrations_create_every_table_on_postgresql(pg_stores: Stores) -> None:
    tables = set(inspect(pg_stores.engine).get_table_names())
    assert {
        "customers",
        "identities",
        "products",
        "interactions",
        "users",
        "api_tokens",
        "audit_log",
    } <= tables
    assert "alembic_version" in tables


def test_the_customer_360_works_on_postgresql(pg_stores: Stores) -> None:
    seed(pg_stores)
    view = logic.view_customer(pg_stores, CLI_OPERATOR, "C001")
    assert view.orders.order_count == 2
    assert view.orders.total_spend == Decimal("200.00")
    assert view.customer.phone == "+8613812341234"
    with pg_stores.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.view")).one()
    assert entry.at.tzinfo is not None


def test_upserting_the_same_customers_twice_changes_nothing_on_postgresql(pg_stores: Stores) -> None:
    from tagora.core.db import transaction

    with transaction(pg_stores.sessions) as session:
        first = logic.upsert_customers(session, CLI_OPERATOR, CUSTOMERS, "test")
    with transaction(pg_stores.sessions) as session:
        second = logic.upsert_customers(session, CLI_OPERATOR, [{"customer_key": "C001"}], "test")
        assert second == {"C001": first["C001"]}
    view = logic.view_customer(pg_stores, CLI_OPERATOR, "C001")
    assert view.customer.name == "张伟"  # an upsert without a name keeps the stored one
