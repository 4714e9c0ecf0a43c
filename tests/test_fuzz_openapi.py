"""Schemathesis over the whole OpenAPI document, as an admin and as a read-only role (analyst): no server
error and no response outside its documented status codes, media types and schemas, on real SQLite +
DuckDB stores seeded with a little data. The test prints how many cases it generated."""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

import hypothesis
import pyarrow as pa
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err, Ok

from tagora.app import create_app
from tagora.audiences import logic as audiences
from tagora.audiences.schemas import SegmentCreate
from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.settings import Settings
from tagora.tags.facade import install_library
from tests.conftest import PASSWORD
from tests.console.seed import seed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("admin", "analyst")
MIN_CASES = 2000
# Examples per operation and role: generated freely (positive, then negative where there is a query or a
# body to break), then with path parameters that name things that exist, to get past "not found".
POSITIVE, NEGATIVE, KNOWN_PATH = 15, 5, 8
HEAVY = {"POST /api/tags/compute": 3, "POST /api/models/publish": 3, "POST /api/models/train": 4}
KNOWN = {"key": "C001", "customer_key": "C001", "name": "rfm", "run_id": "1", "sku": "SKU1"}


def _known(method: str, path: str) -> dict[str, str]:
    """Values that exist for the path's parameters (none for a DELETE: the others still need them)."""
    if method == "DELETE":
        return {}
    code = "member_tier" if path.startswith("/api/tags/") else "gold"
    names = re.findall(r"{(\w+)(?::path)?}", path)
    return {n: code if n == "code" else KNOWN[n] for n in names if n == "code" or n in KNOWN}


def _token(stores: Stores, role: str) -> str:
    core_logic.create_user(stores.sessions, CLI_OPERATOR, f"fuzz-{role}", PASSWORD, role)
    return core_logic.issue_api_token(stores.sessions, CLI_OPERATOR, f"fuzz-{role}", "fuzz")


def _seed(stores: Stores) -> None:
    uids = seed(stores)
    tiers = {"C001": "gold", "C002": "silver", "C003": "gold"}
    table = pa.table(
        {
            "uid": [uids[k] for k in tiers],
            "tag": ["tier"] * 3,
            "value": list(tiers.values()),
            "number": [None] * 3,
            "weight": [None] * 3,
        }
    )
    audiences.rebuild_index(stores, {"tier": "enum"}, table)
    gold = SegmentCreate(code="gold", name="Gold", expression={"tag": "tier", "op": "=", "value": "gold"})
    audiences.create_segment(stores, CLI_OPERATOR, gold)
    install_library(stores.sessions, CLI_OPERATOR)  # tags to read, compute and move through their lifecycle


class Fuzzer:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.cases = 0

    def run(self, strategy: Any, examples: int) -> None:
        @hypothesis.given(case=strategy)
        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases every run: CI fails on a finding, not on luck
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            self.cases += 1
            response = case.call(headers={**(case.headers or {}), **self.headers}, timeout=300)
            case.validate_response(response, checks=CHECKS)

        with suppress(Unsatisfiable):  # e.g. no negative value of a path that takes any string
            check()


def test_generated_requests_as_admin_and_analyst_get_no_server_error_and_match_the_schema(
    settings: Settings, stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(stores)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, stores))
    results = list(schema.get_all_operations())
    assert [r.err() for r in results if isinstance(r, Err)] == []  # the document itself is valid
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    failures: list[str] = []
    cases = 0
    for role in ROLES:
        fuzzer = Fuzzer({"Authorization": f"Bearer {_token(stores, role)}"})
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            known = _known(operation.method.upper(), operation.path)
            passes: list[tuple[GenerationMode, dict[str, str] | None, int]] = [
                (GenerationMode.POSITIVE, None, HEAVY.get(label, POSITIVE))
            ]
            if len(operation.query) or len(operation.body):
                passes.append((GenerationMode.NEGATIVE, None, HEAVY.get(label, NEGATIVE)))
            if known:
                passes.append((GenerationMode.POSITIVE, known, HEAVY.get(label, KNOWN_PATH)))
            for mode, path, examples in passes:
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path)
                try:
                    fuzzer.run(strategy, examples)
                except (Exception, BaseExceptionGroup) as exc:  # every failing operation, not the first
                    failures.append(f"{role} {mode.value} {label}: {exc}")
        cases += fuzzer.cases
    with capsys.disabled():
        roles = " and ".join(ROLES)
        print(f"\nschemathesis: {cases} generated cases over {len(operations)} operations as {roles}")
    assert not failures, "\n\n".join(failures)
    assert cases >= MIN_CASES
