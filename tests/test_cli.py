"""The ``tagora`` command end to end on real stores: demo data, users, stats, customers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagora.cli import app
from tagora.settings import get_settings
from tests.conftest import run_cli as run


def test_demo_loads_data_once_and_hands_out_a_working_login(cli_home: Path) -> None:
    out = CliRunner().invoke(app, ["demo", "--customers", "300", "--no-serve"])
    assert out.exit_code == 0, out.output
    assert "login: demo" in out.output
    assert "http://" not in out.output  # nothing is served, so no address is printed
    counts = json.loads(run("stats", "--json"))
    assert counts["customers"] == 300
    assert counts["orders"] > 0 and counts["order_lines"] >= counts["orders"] and counts["products"] > 0
    again = CliRunner().invoke(app, ["demo", "--customers", "300", "--no-serve"])
    assert "not generating again" in again.output
    assert json.loads(run("stats", "--json")) == counts


def test_a_demo_whose_tag_run_fails_exits_non_zero_naming_the_step_without_a_login(cli_home: Path) -> None:
    import duckdb

    run("stats", "--json")  # creates the stores
    with duckdb.connect(str(cli_home / "warehouse.duckdb")) as con:  # times the tag run cannot compare
        con.execute("ALTER TABLE events ALTER occurred_at TYPE VARCHAR")
    out = CliRunner().invoke(app, ["demo", "--customers", "100", "--no-serve"])
    assert out.exit_code == 2, out.output
    assert "tags.compute step failed" in out.output and "Traceback" not in out.output
    assert "login:" not in out.output


def test_customers_show_masks_for_a_sales_user_and_not_for_the_operator(cli_home: Path) -> None:
    run("demo", "--customers", "50", "--no-serve")
    run("createuser", "seller", "--role", "sales", "--password", "long-enough-pw")
    key = json.loads(run("customers", "search", "--json"))["items"][0]["customer_key"]
    full = json.loads(run("customers", "show", key, "--json"))
    masked = json.loads(run("customers", "show", key, "--as", "seller", "--json"))
    assert full["customer"]["phone"] and "*" not in full["customer"]["phone"]
    assert "*" in masked["customer"]["phone"] and masked["masked"] is True
    assert {"order_count", "total_spend", "average_order_value"} <= set(full["orders"])
    assert "items" in full["timeline"]


def test_an_unknown_customer_is_a_clear_error_not_a_traceback(cli_home: Path) -> None:
    result = CliRunner().invoke(app, ["customers", "show", "NOPE", "--json"])
    assert result.exit_code == 2
    assert "not found" in result.output and "Traceback" not in result.output


def test_a_placeholder_secret_outside_development_is_refused(
    cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGORA_SECRET_KEY", "changethis")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["stats", "--json"])
    assert result.exit_code == 2
    assert "TAGORA_SECRET_KEY" in result.output


def test_a_warehouse_locked_by_another_process_is_a_clear_error(cli_home: Path) -> None:
    import subprocess
    import sys

    run("stats", "--json")  # creates the stores
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); input()"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(cli_home / "warehouse.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(app, ["stats", "--json"])
        assert result.exit_code == 2
        assert "in use by another Tagora process" in result.output
        # a command that needs only the metadata database never opens the warehouse
        made = CliRunner().invoke(app, ["createuser", "bob", "--password", "long-enough-passphrase"])
        assert made.exit_code == 0, made.output
    finally:
        holder.kill()
        holder.wait()
