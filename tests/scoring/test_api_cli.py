"""Models through HTTP (with permissions), the ``tagora models`` command, and the registry on PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.scoring import facade
from tests.conftest import login, run_cli


def test_analysts_train_and_marketers_only_read_models_over_http(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    login(client, users["sales"])
    assert client.get("/api/models").status_code == 403
    login(client, users["marketer"])
    assert client.get("/api/models").json() == []
    assert client.post("/api/models/train", json={"name": "rfm"}).status_code == 403
    login(client, users["analyst"])
    body = {"name": "rfm", "cutoff": "2025-12-31", "horizon_days": 60}
    trained = client.post("/api/models/train", json=body)
    assert trained.status_code == 201 and trained.json()["version"] == 1
    unknown = client.post("/api/models/train", json={"name": "oracle"})
    assert unknown.status_code == 404 and unknown.json()["error"]["data"] == {"field": "name"}
    bad = client.post("/api/models/train", json={"name": "rfm", "horizon_days": 0})
    assert bad.status_code == 422
    login(client, users["marketer"])
    assert [r["name"] for r in client.get("/api/models").json()] == ["rfm"]
    shown = client.get("/api/models/rfm").json()
    assert shown["data_end"] == "2025-12-31" and shown["metrics"]["customers"] > 100
    scores = client.get("/api/models/scores", params={"cutoff": "2025-12-31", "horizon_days": 60, "limit": 5})
    assert scores.status_code == 200
    rows = scores.json()
    assert len(rows) == 5
    risk = [r["churn_probability"] for r in rows]
    assert risk == sorted(risk, reverse=True)
    assert client.get("/api/models/scores", params={"cutoff": "not-a-day"}).status_code == 422
    assert client.post("/api/models/publish", json={}).status_code == 403
    login(client, users["admin"])
    published = client.post("/api/models/publish", json={"cutoff": "2025-12-31"})
    assert published.status_code == 201 and published.json()["published_rows"] > 100


def test_the_models_command_trains_lists_shows_evaluates_and_scores(
    cli_home: Path, shop_folder: Path, tmp_path: Path
) -> None:
    run_cli("import", "dataset", str(shop_folder))
    window = ("--horizon-days", "60", "--json")
    run = json.loads(run_cli("models", "train", "clv", "--cutoff", "2025-12-31", *window))
    assert run["name"] == "clv" and run["version"] == 1
    assert [r["name"] for r in json.loads(run_cli("models", "list", "--json"))] == ["clv"]
    assert json.loads(run_cli("models", "show", "clv", "--json"))["parameters"]["unit"] == "day"
    report = json.loads(run_cli("models", "evaluate", "--cutoff", "2025-09-30", *window))
    assert [m["scorer"] for m in report["churn"]] == ["model", "recency", "rfm_score"]
    table = run_cli("models", "evaluate", "--cutoff", "2025-09-30", "--horizon-days", "60")
    assert "AUC" in table and "previous_period" in table
    out = tmp_path / "scores.csv"
    run_cli("models", "score", "--cutoff", "2025-12-31", "--horizon-days", "60", "--output", str(out))
    with out.open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) > 100
    published = json.loads(run_cli("models", "publish", "--cutoff", "2025-12-31", "--json"))
    assert published["run"]["name"] == "model_tags" and published["published_rows"] > 100


def test_a_bad_cutoff_on_the_command_line_is_a_clear_error(cli_home: Path) -> None:
    from typer.testing import CliRunner

    from tagora.cli import app

    result = CliRunner().invoke(app, ["models", "score", "--cutoff", "30/06/2011", "--output", "x.csv"])
    assert result.exit_code == 2 and "2011-06-30" in result.output


@pytest.mark.postgres
def test_model_runs_are_recorded_on_postgresql(pg_stores: Stores, shop_folder: Path) -> None:
    from tagora.ingest.logic import import_dataset

    assert "model_runs" in inspect(pg_stores.engine).get_table_names()
    import_dataset(pg_stores, CLI_OPERATOR, shop_folder)
    first = facade.train_model(pg_stores, CLI_OPERATOR, "rfm", date(2025, 12, 31), 60)
    second = facade.train_model(pg_stores, CLI_OPERATOR, "rfm", date(2025, 12, 31), 60)
    assert (first.version, second.version) == (1, 2)
    assert facade.show_run(pg_stores, "rfm").trained_at.tzinfo is not None
