"""Training, the recommendations API, product -> customers and campaign exports on a real (small) store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tagora.core import audit
from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores, open_stores
from tagora.recs import facade, logic
from tagora.recs.persist import load_model
from tagora.recs.publish import category_rows
from tagora.settings import get_settings
from tests.conftest import login, run_cli
from tests.recs.seed import GARDEN, KITCHEN, seed


@pytest.fixture
def shop(stores: Stores) -> dict[str, int]:
    return seed(stores)


def test_without_a_trained_model_everyone_gets_trending_items_not_an_error(
    stores: Stores, shop: dict
) -> None:
    result = facade.recommend_for(stores, "NEW", 3)
    assert result.algorithm == "trending" and result.cold_start
    assert len(result.items) == 3 and all(i.reason for i in result.items)


def test_training_saves_a_model_the_api_serves_with_reasons_from_the_customers_history(
    stores: Stores, shop: dict, client: TestClient, users: dict[str, str]
) -> None:
    report = logic.train_model(stores, CLI_OPERATOR)
    assert report.algorithm == "hybrid" and report.customers == 40 and Path(report.path).exists()
    assert client.get("/v1/recommendations/KC00").status_code == 401
    login(client, users["marketer"])
    body = client.get("/v1/recommendations/KC01", params={"n": 2, "exclude_bought": True}).json()
    assert body["algorithm"] == "hybrid" and not body["cold_start"]
    bought = {"K3", "K4", "K2"}  # KC01 (n=1) bought K2, K3, K4
    assert {i["sku"] for i in body["items"]} <= set(KITCHEN) - bought
    for item in body["items"]:
        assert item["reason"] and item["because"]
        for linked in item["because"]:
            assert linked["sku"] in bought and linked["name"] in item["reason"]
    with stores.sessions() as session:
        assert [e.target_id for e in audit.entries(session, "recs.train")] == ["hybrid"]


def test_buy_again_explanations_count_the_customers_repeat_purchases(stores: Stores, shop: dict) -> None:
    logic.train_model(stores, CLI_OPERATOR, "buy_again")
    top = facade.recommend_for(stores, "KC00", 1).items[0]
    assert top.sku == "K1" and "2 times" in top.reason and [b.sku for b in top.because] == ["K1"]


def test_a_customer_with_no_history_gets_popular_items_and_an_unknown_key_is_404(
    stores: Stores, shop: dict, client: TestClient, users: dict[str, str]
) -> None:
    logic.train_model(stores, CLI_OPERATOR, "itemcf")
    login(client, users["sales"])
    body = client.get("/v1/recommendations/NEW", params={"n": 4}).json()
    assert body["cold_start"] and len(body["items"]) == 4
    assert all(i["because"] == [] for i in body["items"])
    missing = client.get("/v1/recommendations/NOBODY")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/v1/recommendations/KC00", params={"n": 0}).status_code == 422


def test_category_and_price_filters_apply_through_the_api(
    stores: Stores, shop: dict, client: TestClient, users: dict[str, str]
) -> None:
    logic.train_model(stores, CLI_OPERATOR, "popularity")
    login(client, users["admin"])
    body = client.get(
        "/v1/recommendations/KC00", params={"n": 10, "category": "garden", "price_min": 100, "price_max": 200}
    ).json()
    assert {i["sku"] for i in body["items"]} == {"G2", "G3", "G4"}


def test_cheap_clicks_do_not_turn_a_gardener_into_a_cook(stores: Stores, shop: dict) -> None:
    logic.train_model(stores, CLI_OPERATOR, "hybrid")
    model, _ = facade.served_model(stores)
    X = model.interactions_
    row = X.row(shop["GD00"])
    assert row is not None
    weights = {str(X.items.skus[c]): float(X.matrix[row, c]) for c in X.history(row)}
    assert weights["K5"] < min(weights[g] for g in GARDEN if g in weights)


def test_the_saved_model_reloads_without_pickle_and_recommends_the_same(stores: Stores, shop: dict) -> None:
    logic.train_model(stores, CLI_OPERATOR)
    before = facade.recommend_for(stores, "GD03", 5)
    stores.extras.clear()
    with np.load(facade.model_path(stores), allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    model, meta = load_model(facade.model_path(stores))
    assert meta["algorithm"] == "hybrid" and type(model).__name__ == "SwitchingHybrid"
    assert facade.recommend_for(stores, "GD03", 5) == before


def test_a_products_target_customers_are_the_people_who_shop_its_category(
    stores: Stores, shop: dict, client: TestClient, users: dict[str, str]
) -> None:
    logic.train_model(stores, CLI_OPERATOR, "itemcf")
    login(client, users["marketer"])
    body = client.get("/v1/target-customers/G1", params={"n": 5, "exclude_bought": True}).json()
    assert body["name"] == "Garden tool G1" and len(body["customers"]) == 5
    assert all(c["customer_key"].startswith("GD") for c in body["customers"])
    assert client.get("/v1/target-customers/NOPE").status_code == 404


def test_an_unknown_algorithm_is_refused_with_its_name(stores: Stores, shop: dict) -> None:
    with pytest.raises(AppError, match="algorithm: unknown 'magic'"):
        logic.train_model(stores, CLI_OPERATOR, "magic")


def test_export_writes_one_row_per_customer_and_rank_in_csv_and_json_lines(
    stores: Stores, shop: dict, tmp_path: Path
) -> None:
    logic.train_model(stores, CLI_OPERATOR)
    rows = logic.export_recommendations(stores, CLI_OPERATOR, tmp_path / "recs.csv", n=3)
    with (tmp_path / "recs.csv").open(encoding="utf-8-sig") as fh:  # with the mark Excel needs
        table = list(csv.DictReader(fh))
    assert rows == len(table) == 40 * 3
    assert list(table[0]) == ["customer_key", "rank", "sku", "score", "reason"]
    assert {r["rank"] for r in table} == {"1", "2", "3"}
    lines = logic.export_recommendations(
        stores, CLI_OPERATOR, tmp_path / "recs.jsonl", 2, "popularity", "jsonl"
    )
    first = json.loads((tmp_path / "recs.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert lines == 80 and set(first) == {"customer_key", "rank", "sku", "score", "reason"}


def test_the_cli_trains_shows_exports_targets_and_evaluates_the_store(cli_home: Path, tmp_path: Path) -> None:
    stores = open_stores(get_settings())
    seed(stores)
    stores.close()
    assert json.loads(run_cli("recs", "train", "--algorithm", "itemcf", "--json"))["customers"] == 40
    shown = json.loads(run_cli("recs", "show", "KC02", "--n", "2", "--json"))
    assert len(shown["items"]) == 2
    run_cli("recs", "export", "--n", "2", "--output", str(tmp_path / "out.jsonl"))
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 80
    targets = json.loads(run_cli("recs", "targets", "K2", "--n", "3", "--json"))
    assert all(c["customer_key"].startswith("KC") for c in targets["customers"])
    report = json.loads(
        run_cli(
            "recs",
            "evaluate",
            "--dataset",
            "store",
            "--train-until",
            "2026-01-10",
            "--test-until",
            "2026-02-28",
            "--json",
        )
    )
    assert {r["algorithm"] for r in report["table"]} >= {"popularity", "itemcf", "als", "hybrid"}


def test_erasing_a_customer_removes_them_from_the_saved_model_and_export_shows_what_it_held(
    stores: Stores, shop: dict
) -> None:
    logic.train_model(stores, CLI_OPERATOR, "hybrid")
    held = facade.export_customer(stores, shop["KC01"])
    assert held["in_model"] and {h["sku"] for h in held["history"]} == {"K2", "K3", "K4"}
    assert held["recommendations"] and not {r["sku"] for r in held["recommendations"]} & {"K2", "K3", "K4"}
    before, _ = facade.served_model(stores)
    row = before.interactions_.row(shop["KC01"])
    assert facade.erase_customer(stores, CLI_OPERATOR, shop["KC01"])
    model, _ = load_model(facade.model_path(stores))
    X = model.interactions_
    assert X.row(shop["KC01"]) is None and shop["KC01"] not in X.uids.tolist()
    assert X.matrix[row].nnz == 0 and row not in X.purchase_rows.tolist() and X.matrix.nnz
    erased = facade.recommend_for(stores, "KC01", 3)
    assert erased.cold_start and all(not i.because for i in erased.items)
    assert facade.export_customer(stores, shop["KC01"]) == {
        "in_model": False,
        "history": [],
        "recommendations": [],
    }
    assert not facade.erase_customer(stores, CLI_OPERATOR, shop["KC01"])  # already gone
    with stores.sessions() as session:
        assert [e.target_id for e in audit.entries(session, "recs.erase")] == [str(shop["KC01"])]


def test_forgetting_a_row_clears_every_per_customer_array_of_a_hybrid(stores: Stores, shop: dict) -> None:
    from tagora.recs.als import ALS
    from tagora.recs.buy_again import BuyAgain
    from tagora.recs.hybrid import SwitchingHybrid, WeightedHybrid
    from tagora.recs.interactions import build_interactions
    from tagora.recs.popularity import Popularity
    from tagora.recs.queries import catalogue, store_behaviours
    from tagora.recs.usercf import UserCF

    X = build_interactions(store_behaviours(stores), catalogue(stores))
    parts = (("als", ALS(factors=4, iterations=2)), ("usercf", UserCF()), ("buy_again", BuyAgain()))
    model = SwitchingHybrid(WeightedHybrid(parts, (1.0, 1.0, 1.0)), Popularity()).fit(X)
    row = X.row(shop["KC00"])
    assert row is not None
    model.forget_row(row)
    als, usercf, again = (est for _, est in model.established_.fitted_)
    assert not als.user_factors_[row].any() and usercf.user_vectors_[row].nnz == 0
    assert again.scores_[row].nnz == 0 and again.counts_[row].nnz == 0 and model.history_size_[row] == 0


def test_the_scheduled_retrain_skips_an_empty_store_and_keeps_the_served_algorithm(stores: Stores) -> None:
    status, detail = facade.retrain(stores, CLI_OPERATOR)
    assert status == "skipped" and "no purchases" in detail
    seed(stores)
    logic.train_model(stores, CLI_OPERATOR, "itemcf")
    status, detail = facade.retrain(stores, CLI_OPERATOR)
    assert status == "succeeded" and detail.startswith("itemcf on 40 customers")
    assert facade.served_model(stores)[1]["algorithm"] == "itemcf"


def test_recommended_categories_are_published_as_a_tag_segments_can_use(stores: Stores, shop: dict) -> None:
    from tagora.tags import facade as tags

    logic.train_model(stores, CLI_OPERATOR, "itemcf")
    written = logic.publish_tags(stores, CLI_OPERATOR)
    assert written == {"recommended_categories": 40 * 2}  # each shopper: their own category, then the other
    cook = tags.customer_tags(stores.warehouse, shop["KC01"], "recommended_categories")
    gardener = tags.customer_tags(stores.warehouse, shop["GD01"], "recommended_categories")
    assert {v.value for v in cook} == {v.value for v in gardener} == {"home/kitchen", "garden/tools"}
    rows = category_rows(facade.served_model(stores)[0])
    assert [c for uid, c, _ in rows if uid == shop["KC01"]] == ["home/kitchen", "garden/tools"]
    assert [c for uid, c, _ in rows if uid == shop["GD01"]] == ["garden/tools", "home/kitchen"]
    assert tags.customer_tags(stores.warehouse, shop["NEW"], "recommended_categories") == []
    assert logic.publish_tags(stores, CLI_OPERATOR) == written  # the definition is installed once
    with stores.sessions() as session:
        assert len(audit.entries(session, "recs.publish")) == 2
