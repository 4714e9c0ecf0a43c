"""The model tags this area publishes into the tag catalogue, and the rows each one gets from the scores.

Model tags are ordinary catalogue tags of type ``model``: segments and audiences read them like any other.
Churn tags look ``CHURN_HORIZON_DAYS`` ahead and CLV a year, whatever horizon an export asks for, so a tag
always means the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tagora.scoring.clusters import ClusterModel, Stage, cluster_name
from tagora.scoring.rfm import Segment

CHURN_HORIZON_DAYS = 90
CLV_HORIZON_DAYS = 365
RISK_LEVELS = ["high", "medium", "low"]

Row = tuple[int, str | None, float | None]


def _tag(code: str, zh: str, en: str, category: str, value_type: str, model: str, about: str,
         values: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "code": code, "name_zh": zh, "name_en": en, "category": category, "type": "model",
        "value_type": value_type, "values": values or [], "description": about, "owner": "scoring",
        "spec": {"kind": "model", "model_name": model},
    }  # fmt: skip


MODEL_TAGS: dict[str, dict[str, Any]] = {
    t["code"]: t
    for t in (
        _tag("rfm_segment", "RFM客户分群", "RFM segment", "value", "enum", "rfm",
             "重要价值 / 重要发展 / 重要保持 / 重要挽留 / 一般价值 / 一般发展 / 一般保持 / 一般挽留 "
             "(important_value ... general_retain): R, F, M each above or below the mean score.",
             [s.value for s in Segment]),
        _tag("rfm_score", "RFM总分", "RFM score", "value", "number", "rfm",
             "Recency + frequency + monetary quintile scores, 3 (worst) .. 15 (best)."),
        _tag("churn_probability", "流失概率", "Churn probability", "risk", "number", "churn",
             f"Calibrated probability of no purchase in the {CHURN_HORIZON_DAYS} days after the run."),
        _tag("churn_warning", "流失预警", "Churn warning", "risk", "enum", "churn",
             "high (probability >= 0.7), medium (>= 0.4) or low.", RISK_LEVELS),
        _tag("churn_reasons", "流失原因", "Churn reasons", "risk", "weighted", "churn",
             "Up to three behaviour features that raise this customer's churn probability most."),
        _tag("p_alive", "存活概率", "Probability alive", "value", "number", "clv",
             "BG/NBD probability that the customer has not silently left."),
        _tag("expected_purchases_90d", "预计购买次数(90天)", "Expected purchases (90 days)", "value",
             "number", "clv", "BG/NBD expected purchase days in the next 90 days."),
        _tag("clv_12m", "客户终身价值(12个月)", "CLV (12 months)", "value", "number", "clv",
             "BG/NBD x Gamma-Gamma value of the next 12 months, discounted at 10% a year."),
        _tag("p_purchase_30d", "30天内下单概率", "Purchase within 30 days", "value", "number", "survival",
             "Cox time-to-next-purchase model: probability of a purchase in the next 30 days."),
        _tag("lifecycle_stage", "客户生命周期阶段", "Lifecycle stage", "value", "enum", "scores",
             "获取 acquisition / 成长 growth / 成熟 maturity / 保留 retention / 退出 exit, from the churn "
             "probability and purchase history.", [str(s) for s in Stage]),
        _tag("behaviour_cluster", "行为聚类", "Behaviour cluster", "value", "enum", "clusters",
             "k-means cluster of behaviour features; the model run describes each cluster in tag terms.",
             [cluster_name(k) for k in range(max(ClusterModel().k_values))]),
    )
}  # fmt: skip
NUMBER_COLUMNS = {
    "rfm_score": "rfm_score",
    "churn_probability": "churn_probability",
    "p_alive": "p_alive",
    "expected_purchases_90d": "expected_purchases",
    "clv_12m": "clv_12m",
    "p_purchase_30d": "p_purchase_30d",
}
LABEL_COLUMNS = {
    "rfm_segment": "rfm_segment_code",
    "churn_warning": "churn_risk",
    "lifecycle_stage": "lifecycle_stage",
    "behaviour_cluster": "behaviour_cluster",
}


def tag_rows(scores: pd.DataFrame) -> dict[str, list[Row]]:
    """Per tag code, (uid, value, number) rows from ``pipeline.score_customers`` output (indexed by uid)."""
    uids = scores.index.to_numpy(dtype=np.int64).tolist()
    rows: dict[str, list[Row]] = {}
    for code, column in NUMBER_COLUMNS.items():
        numbers = scores[column].astype(float).round(6).tolist()
        rows[code] = [(uid, None, number) for uid, number in zip(uids, numbers, strict=True)]
    for code, column in LABEL_COLUMNS.items():
        labels = scores[column].astype(str).tolist()
        rows[code] = [(uid, label, None) for uid, label in zip(uids, labels, strict=True)]
    reasons = scores["churn_reasons"].astype(str).tolist()
    pairs = zip(uids, reasons, strict=True)
    rows["churn_reasons"] = [(uid, r, None) for uid, text in pairs for r in text.split(",") if r]
    return rows
