"""File imports on a real PostgreSQL metadata store: chunked upserts and one all-or-nothing transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest.files.logic import import_customers_file, import_products_file, import_vcard
from tagora.ingest.files.schemas import FileImportOptions
from tagora.profiles.models import Customer
from tests.conftest import make_settings

pytestmark = pytest.mark.postgres
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def pg_stores(postgres_url: str, tmp_path: Path) -> Iterator[Stores]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    stores = open_stores(make_settings(tmp_path / "home", database_url=url))
    try:
        yield stores
    finally:
        stores.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
