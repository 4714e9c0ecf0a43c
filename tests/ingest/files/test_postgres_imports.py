"""File imports on a real PostgreSQL metadata store: chunked upserts and one all-or-nothing transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.files.logic import import_customers_file, import_products_file, import_vcard
from tagora.ingest.files.schemas import FileImportOptions
from tagora.profiles.models import Customer

pytestmark = pytest.mark.postgres
FIXTURES = Path(__file__).parent / "fixtures"


def test_file_imports_upsert_customers_and_products_on_postgresql(pg_stores: Stores) -> None:
    mapping = FileImportOptions(mapping=FIXTURES / "customers.yaml", chunk_size=2)
    report = import_customers_file(pg_stores, CLI_OPERATOR, FIXTURES / "customers.csv", mapping)
    assert (report.rows_loaded, report.rows_rejected, report.created) == (3, 3, 2)
    assert import_vcard(pg_stores, CLI_OPERATOR, FIXTURES / "contacts.vcf").created == 3
    products = import_products_file(pg_stores, CLI_OPERATOR, FIXTURES / "products.csv")
    assert products.records_written == 2
    with pg_stores.sessions() as session:
        wang = session.scalars(select(Customer).where(Customer.customer_key == "M001")).one()
    assert (wang.phone, wang.province, wang.member_tier) == ("+8613800138000", "广东省", "diamond")


def test_all_or_nothing_on_postgresql_writes_nothing_for_a_dirty_file(pg_stores: Stores) -> None:
    strict = FileImportOptions(mapping=FIXTURES / "customers.yaml", all_or_nothing=True)
    report = import_customers_file(pg_stores, CLI_OPERATOR, FIXTURES / "customers.csv", strict)
    assert not report.written
    with pg_stores.sessions() as session:
        assert session.scalars(select(Customer)).first() is None
