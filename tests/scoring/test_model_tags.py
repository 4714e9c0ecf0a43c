"""Model results published as catalogue tags: installed once, values replaced per run, history kept."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.scoring import facade
from tagora.scoring.clusters import Stage
from tagora.scoring.model_tags import MODEL_TAGS, RISK_LEVELS
from tagora.scoring.rfm import Segment
from tagora.tags import facade as tags

ANALYST = Principal(username="ana", role=Role.ANALYST)


def test_publishing_puts_every_model_tag_on_every_scored_customer(shop: Stores) -> None:
    report = facade.publish_model_tags(shop, CLI_OPERATOR, date(2025, 12, 31))
    assert report.run.name == "model_tags" and report.customers > 100
    uid = int(facade.compute_scores(shop, date(2025, 12, 31), 90).index[0])
    values = {v.tag: v for v in tags.customer_tags(shop.warehouse, uid) if v.tag in MODEL_TAGS}
    assert set(values) >= set(MODEL_TAGS) - {"churn_reasons"}
    assert values["rfm_segment"].value in {s.value for s in Segment}
    assert values["churn_warning"].value in RISK_LEVELS
    assert values["lifecycle_stage"].value in {str(s) for s in Stage}
    assert str(values["behaviour_cluster"].value).startswith("cluster_")
    described = report.run.metrics["clusters"]
    assert sum(c["customers"] for c in described) == report.customers and all(c["terms"] for c in described)
    assert 0 <= float(values["churn_probability"].value) <= 1
    assert float(values["clv_12m"].value) >= 0
    assert {v.source for v in values.values()} == {"model:model_tags@1"}
    counts = report.run.metrics["values"]
    assert counts["rfm_segment"] == counts["clv_12m"] == report.customers
    assert sum(counts.values()) == report.published_rows


def test_a_second_publication_replaces_the_values_and_keeps_the_history(shop: Stores) -> None:
    first = facade.publish_model_tags(shop, CLI_OPERATOR, date(2025, 9, 30))
    second = facade.publish_model_tags(shop, CLI_OPERATOR, date(2025, 12, 31))
    assert (first.run.version, second.run.version) == (1, 2)
    uid = int(facade.compute_scores(shop, date(2025, 9, 30), 90).index[0])
    current = [v for v in tags.customer_tags(shop.warehouse, uid) if v.tag == "clv_12m"]
    assert len(current) == 1 and current[0].source == "model:model_tags@2"
    history = tags.tag_history(shop.warehouse, uid, "clv_12m")
    assert [h.source for h in history] == ["model:model_tags@1", "model:model_tags@2"]
    per_tag = Counter(v.tag for v in tags.customer_tags(shop.warehouse, uid))
    assert all(per_tag[code] == 1 for code in MODEL_TAGS if code != "churn_reasons")


def test_an_analyst_may_republish_but_not_install_the_model_tags(shop: Stores) -> None:
    with pytest.raises(AppError) as refused:
        facade.publish_model_tags(shop, ANALYST, date(2025, 12, 31))
    assert refused.value.status == 403
    facade.publish_model_tags(shop, CLI_OPERATOR, date(2025, 12, 31))
    again = facade.publish_model_tags(shop, ANALYST, date(2025, 12, 31))
    assert again.run.actor == "ana" and again.run.version == 2


def test_the_worker_job_republishes_only_when_due(shop: Stores) -> None:
    status, detail = facade.publish_if_due(shop, CLI_OPERATOR, timedelta(days=1))
    assert status == "succeeded" and detail.startswith("model_tags v1:")
    status, detail = facade.publish_if_due(shop, CLI_OPERATOR, timedelta(days=1))
    assert status == "skipped" and detail.startswith("not due")
    assert facade.publish_if_due(shop, CLI_OPERATOR, timedelta(0))[1].startswith("model_tags v2:")


def test_the_worker_job_skips_a_shop_without_orders(stores: Stores) -> None:
    status, detail = facade.publish_if_due(stores, CLI_OPERATOR, timedelta(days=1))
    assert (status, detail) == ("skipped", "there are no orders to learn from")
