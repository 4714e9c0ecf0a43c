"""``tagora tags ...`` end to end on real stores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tagora.cli import app
from tests.conftest import run_cli
from tests.tags.test_lifecycle import orders_90d


@pytest.mark.slow
def test_the_cli_installs_computes_and_shows_a_customers_value(
    cli_home: Path, online_retail_path: Path
) -> None:
    run_cli("import", "online-retail", str(online_retail_path))
    assert json.loads(run_cli("tags", "install-library", "--json"))["added"][:2] == ["gender", "age"]
    run = json.loads(run_cli("tags", "compute", "--as-of", "2011-09-30", "--json"))
    assert run["status"] == "succeeded" and run["customers"] == 3658
    shown = json.loads(run_cli("tags", "show", "orders_total", "--customer", "17850", "--json"))
    assert shown["value"] == 34.0 and shown["weight"] == 1.0 and shown["run_id"] == run["id"]
    assert shown["computed_at"].startswith(date.today().isoformat()[:4])
    listed = json.loads(run_cli("tags", "list", "--category", "risk", "--json"))
    assert {t["code"] for t in listed} == {"returns_rate", "high_returner", "churn_risk"}


def test_the_cli_runs_the_lifecycle_and_refuses_what_a_role_may_not_do(
    cli_home: Path, tmp_path: Path
) -> None:
    definition = tmp_path / "orders_90d.yaml"
    definition.write_text(yaml.safe_dump(orders_90d().model_dump(mode="json"), allow_unicode=True), "utf-8")
    run_cli("createuser", "mia", "--role", "marketer", "--password", "correct-horse-battery")
    run_cli("tags", "create", str(definition), "--as", "mia", "-m", "for the spring campaign")
    run_cli("tags", "submit", "orders_90d", "--as", "mia")
    refused = CliRunner().invoke(app, ["tags", "approve", "orders_90d", "--as", "mia"])
    assert refused.exit_code == 2 and "lacks permission 'tags:approve'" in refused.output
    run_cli("tags", "approve", "orders_90d", "-m", "fine")
    run_cli("tags", "publish", "orders_90d")
    shown = json.loads(run_cli("tags", "show", "orders_90d", "--json"))
    assert shown["tag"]["status"] == "published"
    steps = [(h["action"], h["actor"], h["comment"]) for h in shown["history"]]
    assert steps[0] == ("tag.create", "mia", "for the spring campaign") and steps[2] == (
        "tag.approve",
        "cli",
        "fine",
    )
    bad = CliRunner().invoke(app, ["tags", "compute", "--as-of", "30/09/2011"])
    assert bad.exit_code == 2 and "is not a date" in bad.output


def test_the_cli_reports_the_catalogues_value_and_a_tags_figures(cli_home: Path) -> None:
    run_cli("tags", "install-library")
    assert json.loads(run_cli("tags", "compute", "--json"))["status"] == "succeeded"
    report = json.loads(run_cli("tags", "report", "--json"))
    assert len(report["tags"]) == 42 and report["live_customers"] == 0
    assert "monetary_365d" in report["unused"] and "lifecycle" not in report["unused"]  # churn_risk reads it
    assert report["stale"] == [] and report["failing"] == []
    text = run_cli("tags", "report")
    assert "unused (" in text and "stale (0)" in text
    shown = json.loads(run_cli("tags", "show", "lifecycle", "--json"))
    assert shown["evaluation"]["usage"]["rule_tags"] == ["churn_risk"]
    assert shown["evaluation"]["last_run"]["status"] == "succeeded"
    assert "coverage" in run_cli("tags", "show", "lifecycle")
