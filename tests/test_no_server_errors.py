"""Inputs that gave 500s (or silent nulls) now get a clear 4xx in the one error shape."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from pyroaring import BitMap
from typer.testing import CliRunner

from tagora.audiences import logic as audiences
from tagora.audiences.schemas import SegmentCreate
from tagora.cli import app as cli_app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.settings import get_settings
from tests.conftest import login, run_cli
from tests.console.seed import seed
from tests.console.test_pages import sign_in

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_NOT = '{"not":' * 3000 + '{"tag": "tier", "op": "is_set"}' + "}" * 3000


def _error(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "data"}
    return dict(body["error"])


@pytest.fixture
def shop(stores: Stores) -> dict[str, int]:
    """Four customers; C001 is gold with a spend, nobody is platinum (an empty segment)."""
    uids = seed(stores)
    audiences.rebuild_index(
        stores,
        {"tier": "enum", "spend": "number", "likes": "weighted"},
        pa.table(
            {
                "uid": [uids["C001"], uids["C002"], uids["C001"]],
                "tag": ["tier", "spend", "likes"],
                "value": ["gold", None, "tea"],
                "number": [None, 5.0, None],
                "weight": [None, None, 0.5],
            }
        ),
    )
    nobody = {"tag": "tier", "op": "=", "value": "platinum"}
    audiences.create_segment(stores, CLI_OPERATOR, SegmentCreate(code="nobody", name="N", expression=nobody))
    return uids


def test_the_portrait_of_an_empty_segment_is_a_conflict_not_an_index_error(
    client: TestClient, users: dict[str, str], shop: dict[str, int]
) -> None:
    login(client, users["admin"])
    error = _error(client.get("/api/segments/nobody/portrait"), 409)
    assert error["message"] == "segment 'nobody' has no members: there is no portrait to draw"
    _error(client.get("/api/segments/compare", params={"a": "nobody", "b": "nobody"}), 409)


def test_a_numeric_tag_none_of_the_members_has_gets_no_quantiles(
    stores: Stores, shop: dict[str, int]
) -> None:
    members = BitMap([shop["C003"]])
    spend = next(t for t in audiences.portrait(stores, CLI_OPERATOR, members).tags if t.name == "spend")
    assert spend.covered == 0 and spend.quantiles is None


def test_the_product_portrait_of_an_unknown_sku_is_not_found(
    client: TestClient, users: dict[str, str], shop: dict[str, int]
) -> None:
    login(client, users["analyst"])
    error = _error(client.get("/api/segments/portrait/product", params={"sku": "NOPE"}), 404)
    assert error["data"] == {"what": "product", "key": "NOPE"}
    _error(client.get("/api/segments/portrait/product", params={"category": "nowhere"}), 404)


def test_a_cutoff_in_the_future_or_before_1900_is_refused_naming_the_field(
    client: TestClient, users: dict[str, str], shop: dict[str, int]
) -> None:
    login(client, users["admin"])
    for day in ("9999-12-31", "0001-01-01"):
        for response in (
            client.get("/api/models/scores", params={"cutoff": day}),
            client.post("/api/models/train", json={"name": "churn", "cutoff": day}),
            client.post("/api/models/publish", json={"cutoff": day}),
        ):
            error = _error(response, 422)
            assert error["data"] == {"field": "cutoff"} and f"cutoff: {day} is not between" in str(
                error["message"]
            )


def test_deeply_nested_segment_json_in_the_console_is_refused_in_the_count(
    client: TestClient, users: dict[str, str], shop: dict[str, int]
) -> None:
    sign_in(client, users["marketer"])
    for text in (DEEP_ARRAY, DEEP_NOT):
        answer = client.post("/partials/segments/count", data={"expression": text})
        assert answer.status_code == 200 and "too deeply nested" in answer.text


def test_deeply_nested_segment_json_on_the_command_line_is_refused(cli_home: Path, tmp_path: Path) -> None:
    stores = open_stores(get_settings())
    seed(stores)
    stores.close()
    for text in (DEEP_ARRAY, DEEP_NOT):
        result = CliRunner().invoke(cli_app, ["segments", "count", text])
        assert result.exit_code == 2 and "too deeply nested" in result.output, result.output


def test_the_frameworks_own_404_and_405_use_the_error_shape(client: TestClient) -> None:
    assert _error(client.get("/api/no-such-thing"), 404)["code"] == "not_found"
    refused = client.delete("/api/customers")
    assert _error(refused, 405)["code"] == "method_not_allowed" and refused.headers["allow"] == "GET"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_the_openapi_document_lists_the_error_responses_of_every_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    error = document["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["error"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) > 50
    for operation in operations:
        for status in ("400", "401", "403", "404", "422"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}


def test_an_unknown_customer_in_tags_show_is_not_found_not_silent_nulls(cli_home: Path) -> None:
    stores = open_stores(get_settings())
    uids = seed(stores)
    stores.close()
    run_cli("tags", "install-library")
    known = json.loads(run_cli("tags", "show", "member_tier", "--customer", str(uids["C001"]), "--json"))
    assert known["uid"] == uids["C001"]
    for key in ("NOPE", "987654", "\u00b2", "9" * 30):
        result = CliRunner().invoke(cli_app, ["tags", "show", "member_tier", "--customer", key])
        assert result.exit_code == 2 and "not_found" in result.output, result.output


def test_a_page_number_past_any_offset_is_refused_naming_the_field(
    client: TestClient, users: dict[str, str], shop: dict[str, int]
) -> None:
    login(client, users["admin"])
    huge = str(10**20)
    for url in ("/api/customers", "/api/customers/C001/timeline"):
        error = _error(client.get(url, params={"page": huge}), 422)
        assert error["data"] == {"field": "page", "max": 1_000_000}
    not_a_number = client.get("/api/customers", params={"page": "1e20"})
    assert not_a_number.status_code == 422
    assert not_a_number.json()["error"]["data"]["errors"][0]["field"] == "page"
    sign_in(client, users["admin"])
    assert client.get("/partials/customers", params={"page": huge}).status_code == 422


def test_with_json_a_cli_error_is_json_on_stdout_in_the_apis_shape(cli_home: Path) -> None:
    result = CliRunner().invoke(cli_app, ["segments", "show", "nope", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": {
            "code": "not_found",
            "message": "segment 'nope' not found",
            "data": {"what": "segment", "key": "nope"},
        }
    }
    plain = CliRunner().invoke(cli_app, ["segments", "show", "nope"])
    assert plain.exit_code == 2 and plain.stdout == "" and "segment 'nope' not found" in plain.output
    deep = CliRunner().invoke(cli_app, ["segments", "count", DEEP_NOT, "--json"])
    assert json.loads(deep.stdout)["error"]["data"] == {"path": ""}


def test_ids_past_64_bits_and_non_ascii_digits_are_a_4xx_not_an_overflow(
    client: TestClient, users: dict[str, str], shop: dict[str, int]
) -> None:
    login(client, users["admin"])
    huge = "9" * 30
    for key in (huge, "\u00b2"):
        assert _error(client.get(f"/api/identity/{key}"), 404)["code"] == "not_found"
        assert _error(client.get(f"/api/customers/{key}"), 404)["code"] == "not_found"
    run = client.get(f"/api/tags/runs/{huge}")
    assert run.status_code == 422 and run.json()["error"]["data"]["errors"][0]["field"] == "run_id"
    sign_in(client, users["admin"])
    assert client.get(f"/identity/{huge}").status_code == 404
    assert client.get(f"/jobs/{huge}").status_code == 422
