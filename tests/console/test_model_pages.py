"""The console's model registry: each model's latest run, and a run's backtest with its chart data."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.logic import import_dataset
from tagora.ingest.sources.synthetic.generate import generate_dataset
from tagora.scoring import facade as scoring
from tests.console.test_pages import sign_in


def test_models_list_their_latest_run_and_a_run_page_carries_its_charts(
    client: TestClient, stores: Stores, users: dict[str, str], tmp_path: Path
) -> None:
    generate_dataset(tmp_path / "shop", 800, 5, date(2025, 1, 1), date(2025, 12, 31))
    import_dataset(stores, CLI_OPERATOR, tmp_path / "shop")
    sign_in(client, users["marketer"])
    assert "tagora models train churn" in client.get("/models").text
    scoring.train_model(stores, CLI_OPERATOR, "churn", date(2025, 12, 31), 60)
    scoring.train_model(stores, CLI_OPERATOR, "rfm", date(2025, 12, 31), 60)
    scoring.train_model(stores, CLI_OPERATOR, "rfm", date(2025, 11, 30), 60)
    listing = client.get("/models").text
    assert 'href="/models/churn"' in listing and 'href="/models/rfm"' in listing
    assert re.search(r"/models/rfm\">rfm</a></td><td class=\"num\">2<", listing)
    page = client.get("/models/churn").text
    assert 'data-scorer="model"' in page and 'data-scorer="rfm_score"' in page
    data = json.loads(re.search(r'id="model-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert len(data["lift"]) == 10 and data["calibration"] and data["importance"]
    older = client.get("/models/rfm", params={"version": 1}).text
    assert "2025-12-31" in older and "v1" in older
    assert client.get("/models/nothing").status_code == 404
    scoring.train_model(stores, CLI_OPERATOR, "propensity", date(2025, 12, 31), 90, target="服装")
    link = "/models/propensity%3A%E6%9C%8D%E8%A3%85"
    assert f'href="{link}"' in client.get("/models").text
    propensity = client.get(link).text
    assert "propensity:服装 v1" in propensity and '"lift": [{"group": 1' in propensity


def test_sales_may_not_see_models(client: TestClient, users: dict[str, str]) -> None:
    sign_in(client, users["sales"])
    page = client.get("/models")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "you may not see models" in page.text and 'href="/"' in page.text  # the console's error page
    api = client.get("/api/models")
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"  # the API answers in JSON
