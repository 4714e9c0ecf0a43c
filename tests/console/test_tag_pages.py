"""The console's tag pages: catalogue browser, a tag's figures, the editor's live check and preview,
the approval inbox (permissions per role) and the value report."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tagora.core.stores import Stores
from tagora.tags.runs import compute_tags
from tests.console.test_pages import csrf_of, sign_in
from tests.tags import conftest as tag_tests
from tests.tags.conftest import AS_OF

shop = tag_tests.shop  # the tag tests' three customers with orders, as a fixture here too

RULE = 'lifecycle = "new" or monetary_365d > 500'


def editor_form(rule: str = RULE, **changes: str) -> dict[str, str]:
    return {
        "code": "big_or_new", "name_zh": "大额或新客", "name_en": "Big or new", "description": "",
        "category": "value", "type": "rule", "value_type": "boolean", "refresh": "scheduled", "rule": rule,
        "spec": "",
    } | changes  # fmt: skip


def test_the_catalogue_is_searched_by_name_or_code_and_filtered_by_category_and_status(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    sign_in(client, users["sales"])
    page = client.get("/tags").text
    assert 'data-code="lifecycle"' in page and 'href="/tags"' in page
    found = client.get("/partials/tags", params={"q": "生命"})
    assert re.findall(r'<tr data-code="([a-z0-9_]+)"', found.text) == ["lifecycle"]
    assert found.headers["HX-Replace-Url"] == "/tags?q=%E7%94%9F%E5%91%BD"
    assert 'data-code="lifecycle"' in client.get("/partials/tags", params={"q": "LIFECYCLE"}).text
    risk = client.get("/partials/tags", params={"category": "risk"}).text
    codes = set(re.findall(r'<tr data-code="([a-z0-9_]+)"', risk))
    assert codes == {"returns_rate", "high_returner", "churn_risk"}
    assert "<td>Risk</td>" in risk  # the category's name, not its code
    assert "No tags match." in client.get("/partials/tags", params={"status": "draft"}).text
    assert "unknown category" in client.get("/partials/tags", params={"category": "nope"}).text
    assert "New tag" not in page  # sales may not edit tags


def test_a_tags_page_shows_coverage_distribution_usage_versions_and_lifecycle(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    compute_tags(shop, as_of=AS_OF)
    sign_in(client, users["analyst"])
    page = client.get("/tags/lifecycle").text
    assert re.search(r'data-stat="coverage">.*?66\.7%', page, re.S)
    data = json.loads(re.search(r'id="tag-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert {v["value"]: v["count"] for v in data["values"]} == {"new": 1, "active": 1}
    assert data["runs"] == ["#1 2026-03-31"] and data["coverage"] == [2]
    assert 'href="/tags/churn_risk"' in page  # a rule tag that reads lifecycle
    assert 'id="lifecycle-history"' in page
    assert re.search(r'id="versions".*?v1.*?data-status="published"', page, re.S)
    assert 'value="deprecate"' in page and 'value="approve"' not in page  # analysts publish, not approve
    money = client.get("/tags/monetary_365d").text
    bins = json.loads(re.search(r'id="tag-data">(.*?)</script>', money, re.S).group(1))["bins"]  # type: ignore[union-attr]
    assert [b["count"] for b in bins] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert client.get("/tags/nope").status_code == 404


def test_the_editor_checks_the_rule_as_it_is_typed_and_previews_the_draft(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    compute_tags(shop, as_of=AS_OF)
    sign_in(client, users["marketer"])
    assert 'hx-post="/partials/tags/check"' in client.get("/tags/new").text
    typo_rule = 'lifecycle = "new" or\n  monetry_365d > 500'
    typo = client.post("/partials/tags/check", data=editor_form(typo_rule)).text
    assert 'data-line="2" data-column="3"' in typo and "monetry_365d" in typo
    assert "  monetry_365d &gt; 500\n  ^" in typo  # the caret under the error
    ok = client.post("/partials/tags/check", data=editor_form()).text
    assert 'data-valid="true"' in ok and "lifecycle, monetary_365d" in ok
    wrong_type = client.post("/partials/tags/check", data=editor_form(value_type="number")).text
    assert 'data-field="definition"' in wrong_type or "value_type" in wrong_type
    bad_json = client.post("/partials/tags/check", data=editor_form(rule="", spec="{nope")).text
    cases = {
        "kind": "rule",
        "cases": [{"when": "orders_90d >= 2", "value": "a"}, {"when": "agee > 3", "value": "b"}],
    }
    in_a_case = editor_form(rule="", value_type="enum", spec=json.dumps(cases))
    case_error = client.post("/partials/tags/check", data=in_a_case).text
    assert 'data-field="spec.cases.1.when"' in case_error and "agee" in case_error
    assert "not JSON" in bad_json
    preview = client.post("/partials/tags/preview", data=editor_form()).text
    assert 'data-coverage="1.0"' in preview  # a boolean rule has a value for everyone
    sample_row = r'<td class="mono">(\w+)</td><td>–</td><td class="mono">–</td><td>(\w+)</td>'
    assert re.findall(sample_row, preview)[:2] == [("ann", "true"), ("bob", "true")]
    assert "masked for your role" in preview


def test_a_submitted_tag_waits_in_the_inbox_until_an_admin_approves_it(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    sign_in(client, users["marketer"])
    token = csrf_of(client, "/tags/new")
    saved = client.post(
        "/tags/save", data=editor_form() | {"csrf": token, "submit": "1", "comment": "for May"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/tags/big_or_new"
    inbox = client.get("/tags/inbox").text
    assert 'data-code="big_or_new"' in inbox and 'value="approve"' not in inbox
    assert "<td>for May</td>" in inbox  # what the requester said
    refused = client.post("/tags/big_or_new/transition", data={"verb": "approve", "csrf": token})
    assert refused.status_code == 403 and "tags:approve" in refused.text
    client.post("/logout", data={"csrf": token})
    client.cookies.clear()

    sign_in(client, users["admin"])
    token = csrf_of(client, "/tags/inbox")
    reject = {"verb": "reject", "csrf": token, "back": "inbox"}
    no_reason = client.post("/tags/big_or_new/transition", data=reject)
    assert no_reason.status_code == 422 and "comment" in no_reason.text
    approved = client.post(
        "/tags/big_or_new/transition",
        data={"verb": "approve", "comment": "fine", "csrf": token, "back": "inbox"},
        follow_redirects=False,
    )
    assert approved.status_code == 303 and approved.headers["location"] == "/tags/inbox"
    assert "Nothing waits for approval." in client.get("/tags/inbox").text
    page = client.get("/tags/big_or_new").text
    assert 'data-status="approved"' in page and "fine" in page and "for May" in page
    assert 'hx-post="/partials/tags/big_or_new/preview"' in page  # approved, not yet published
    version = client.post("/partials/tags/big_or_new/preview").text
    assert 'data-coverage="1.0"' in version and "ann" in version
    assert client.post("/tags/big_or_new/transition", data={"verb": "approve"}).status_code == 403  # no CSRF


def test_the_value_report_and_the_pages_in_chinese(
    client: TestClient, shop: Stores, users: dict[str, str]
) -> None:
    compute_tags(shop, as_of=AS_OF)
    sign_in(client, users["admin"])
    report = client.get("/tags/report").text
    assert re.search(r'<tr data-code="monetary_365d">.*?flag-unused', report, re.S)
    assert not re.search(r'<tr data-code="lifecycle">[^\n]*\n[^\n]*\n[^\n]*flag-unused', report)
    token = csrf_of(client, "/tags")
    client.post("/locale", data={"locale": "zh", "csrf": token, "next": "/tags"})
    assert "审批" in client.get("/tags/inbox").text
    assert "覆盖率" in client.get("/tags/lifecycle").text
