"""vCard address books and the ``tagora import customers|products|vcard`` commands."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tagora.cli import app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.files.logic import import_vcard
from tagora.profiles.models import Customer

FIXTURES = Path(__file__).parent / "fixtures"
MAPPING = str(FIXTURES / "customers.yaml")
IMPORT_MAPPED = ["import", "customers", str(FIXTURES / "customers.csv"), "--mapping", MAPPING]


def stored(stores: Stores) -> dict[str, Customer]:
    with stores.sessions() as session:
        return {c.customer_key: c for c in session.scalars(select(Customer))}


def test_vcard_contacts_become_customers_keyed_by_phone_or_email(stores: Stores) -> None:
    report = import_vcard(stores, CLI_OPERATOR, FIXTURES / "contacts.vcf")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    customers = stored(stores)
    assert set(customers) == {"vcard:+8613800138000", "vcard:john@example.com", "vcard:+8613900000004"}
    zhang = customers["vcard:+8613800138000"]
    assert (zhang.name, zhang.phone, zhang.email) == ("张三", "+8613800138000", "zhang.san@example.com")
    assert (zhang.city, zhang.province, zhang.country) == ("深圳市", "广东省", "CN")
    assert customers["vcard:john@example.com"].name == "John Doe"
    assert customers["vcard:+8613900000004"].name == "李四"  # from N: family name first for Chinese


def test_a_contact_without_phone_or_email_is_rejected_with_a_reason(stores: Stores) -> None:
    report = import_vcard(stores, CLI_OPERATOR, FIXTURES / "contacts.vcf")
    assert [(e.row, e.field, e.reason) for e in report.errors] == [(3, "phone", "no_phone_or_email")]


def test_importing_the_same_address_book_again_updates_the_same_customers(stores: Stores) -> None:
    import_vcard(stores, CLI_OPERATOR, FIXTURES / "contacts.vcf")
    again = import_vcard(stores, CLI_OPERATOR, FIXTURES / "contacts.vcf")
    assert (again.created, again.updated) == (0, 3)
    assert len(stored(stores)) == 3


def test_the_import_customers_command_prints_its_report_as_json(cli_home: Path, tmp_path: Path) -> None:
    errors = tmp_path / "rejected.csv"
    result = CliRunner().invoke(app, [*IMPORT_MAPPED, "--errors", str(errors), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (6, 3, 3)
    assert report["rejected_by_reason"]["email: invalid_email"] == 1
    assert errors.read_text(encoding="utf-8-sig").startswith("row,field,reason")


def test_all_or_nothing_with_rejected_rows_exits_2_and_writes_nothing(cli_home: Path) -> None:
    args = ["import", "products", str(FIXTURES / "products.csv"), "--all-or-nothing", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["written"] is False
    stats = CliRunner().invoke(app, ["stats", "--json"])
    assert json.loads(stats.stdout)["products"] == 0


def test_bad_input_is_a_message_and_exit_code_2_never_a_traceback(cli_home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "customers", str(FIXTURES / "products.csv")])
    assert result.exit_code == 2 and "customer_key" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    missing = CliRunner().invoke(app, ["import", "vcard", str(tmp_path / "nope.vcf")])
    assert missing.exit_code == 2 and "no such file" in " ".join(missing.output.split())


def test_preview_and_vcard_commands_run(cli_home: Path) -> None:
    preview = CliRunner().invoke(app, [*IMPORT_MAPPED, "--preview"])
    assert preview.exit_code == 0, preview.output
    assert "nothing written" in preview.output and "M002" in preview.output
    vcard = CliRunner().invoke(app, ["import", "vcard", str(FIXTURES / "contacts.vcf"), "--json"])
    assert vcard.exit_code == 0 and json.loads(vcard.stdout)["created"] == 3
