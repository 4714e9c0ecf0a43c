"""Model runs are recorded and versioned; the scoring export writes one row per customer as of the cutoff."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores
from tagora.scoring import facade, logic
from tagora.scoring.rfm import LABELS_ZH

CUTOFF = date(2025, 12, 31)
EXPORT_HEADER = ["customer_key", "churn_probability", "expected_purchases", "p_alive", "clv", "rfm_segment"]


def test_each_training_run_is_recorded_with_its_window_parameters_and_metrics(shop: Stores) -> None:
    churn = logic.train_model(shop, CLI_OPERATOR, "churn", CUTOFF, 60)
    clv = logic.train_model(shop, CLI_OPERATOR, "clv", CUTOFF, 60)
    rfm = logic.train_model(shop, CLI_OPERATOR, "rfm", None, 60)
    again = logic.train_model(shop, CLI_OPERATOR, "rfm", date(2025, 6, 30), 60)
    clusters = logic.train_model(shop, CLI_OPERATOR, "clusters", CUTOFF, 60)
    assert clusters.parameters["k"] == len(clusters.metrics["clusters"]) >= 3
    assert set(clusters.metrics["silhouette"]) == {str(k) for k in clusters.parameters["k_values"]}
    assert (churn.version, clv.version, rfm.version, again.version) == (1, 1, 1, 2)
    assert churn.data_end == CUTOFF and churn.data_start is not None and churn.data_start < CUTOFF
    assert rfm.data_end <= CUTOFF and again.data_end == date(2025, 6, 30)
    assert set(churn.metrics["churn"]) == {"model", "recency", "rfm_score"}
    assert len(churn.metrics["lift"]) == 10 and churn.metrics["importance"]
    assert sum(row["customers"] for row in churn.metrics["calibration"]) == churn.metrics["customers"]
    assert set(clv.parameters["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(clv.parameters["gamma_gamma"]) == {"p", "q", "gamma"}
    assert set(clv.metrics["purchases"]) == {"bgnbd", "previous_period"}
    assert set(rfm.metrics["segments"]) <= set(LABELS_ZH.values())
    assert [(r.name, r.version) for r in facade.list_runs(shop)] == [
        ("churn", 1), ("clusters", 1), ("clv", 1), ("rfm", 2), ("rfm", 1)
    ]  # fmt: skip
    assert facade.show_run(shop, "rfm").version == 2
    assert facade.show_run(shop, "rfm", 1).data_end == rfm.data_end
    with shop.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "model.train")).all()
    assert len(actions) == 5


def test_unknown_models_and_windows_without_data_are_clear_errors(shop: Stores) -> None:
    with pytest.raises(AppError) as unknown:
        logic.train_model(shop, CLI_OPERATOR, "crystal_ball", CUTOFF, 60)
    assert unknown.value.status == 404 and "churn" in unknown.value.message
    with pytest.raises(AppError) as early:
        logic.train_model(shop, CLI_OPERATOR, "churn", date(2024, 1, 31), 60)
    assert early.value.status == 422 and early.value.data == {"field": "cutoff"}
    with pytest.raises(AppError) as missing:
        logic.show_run(shop, "churn", 3)
    assert missing.value.status == 404


def test_the_score_export_writes_one_row_per_customer_in_csv_and_json_lines(
    shop: Stores, tmp_path: Path
) -> None:
    report = logic.score_customers(shop, CLI_OPERATOR, CUTOFF, 60, tmp_path / "scores.csv")
    with (tmp_path / "scores.csv").open(encoding="utf-8-sig") as fh:  # with the mark Excel needs
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[: len(EXPORT_HEADER)] == EXPORT_HEADER
    assert len(rows) == report.customers == len({r["customer_key"] for r in rows}) > 100
    for row in rows:
        assert 0 <= float(row["churn_probability"]) <= 1 and 0 <= float(row["p_alive"]) <= 1
        assert float(row["expected_purchases"]) >= 0 and float(row["clv"]) >= 0
        assert row["rfm_segment"] in LABELS_ZH.values()
        assert 0 <= float(row["p_purchase_30d"]) <= 1
        assert date.fromisoformat(row["expected_next_purchase"]) > CUTOFF
    logic.score_customers(shop, CLI_OPERATOR, CUTOFF, 60, tmp_path / "scores.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text("utf-8").splitlines()]
    assert [r["customer_key"] for r in lines] == [r["customer_key"] for r in rows]
    assert report.run.name == "scores" and report.run.metrics["customers"] == len(rows)


def test_the_score_export_writes_typed_excel_through_the_export_writer_and_is_audited(
    shop: Stores, tmp_path: Path
) -> None:
    report = logic.score_customers(shop, CLI_OPERATOR, CUTOFF, 60, tmp_path / "scores.xlsx")
    rows = list(load_workbook(tmp_path / "scores.xlsx").active.iter_rows(min_row=2))
    assert len(rows) == report.customers
    header = [c.value for c in next(load_workbook(tmp_path / "scores.xlsx").active.iter_rows())]
    churn = rows[0][header.index("churn_probability")]
    assert churn.data_type == "n" and 0 <= churn.value <= 1
    with shop.sessions() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "scores.export")).all()
    assert [a.detail["rows"] for a in audits] == [report.customers]


def test_scores_as_of_an_earlier_cutoff_ignore_everything_after_it(shop: Stores) -> None:
    early = logic.compute_scores(shop, date(2025, 9, 30), 60)
    late = logic.compute_scores(shop, CUTOFF, 60)
    assert len(early) < len(late)  # customers who first bought after September are not scored early
    assert early["churn_probability"].between(0, 1).all()


def test_an_output_file_with_another_extension_is_refused_before_any_work(
    shop: Stores, tmp_path: Path
) -> None:
    with pytest.raises(AppError) as refused:
        logic.score_customers(shop, CLI_OPERATOR, CUTOFF, 60, tmp_path / "scores.pdf")
    assert refused.value.data == {"field": "output"} and not (tmp_path / "scores.pdf").exists()
    assert facade.list_runs(shop) == []


def test_the_evaluation_report_compares_the_model_with_its_baselines(shop: Stores) -> None:
    report = logic.evaluate_models(shop, date(2025, 9, 30), 60)
    assert [m.scorer for m in report.churn] == ["model", "recency", "rfm_score"]
    assert [m.predictor for m in report.purchases] == ["bgnbd", "previous_period"]
    assert report.customers > 100 and len(report.lift) == 10
    assert [m.scorer for m in report.survival] == ["model", "recency"]
