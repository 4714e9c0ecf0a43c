"""The warehouse from many threads at once: each thread has its own connection to the same database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.demo import load_demo_data
from tests.conftest import PASSWORD
from tests.e2e.test_console_browser import running_server


def at_once(work: Callable[[int], None], n: int) -> None:
    """``work(0)`` ... ``work(n - 1)``, each in a thread of its own, all at once."""
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_read_and_write_the_warehouse_at_once_without_errors_or_mixed_up_results(
    stores: Stores,
) -> None:
    stores.warehouse.create_table("numbers", pa.table({"i": pa.array(range(100_000), pa.int64())}))
    failures: list[str] = []

    def work(k: int) -> None:
        try:
            con = stores.warehouse
            assert con is stores.warehouse  # the thread keeps its connection
            t = con.table("numbers")
            for n in range(1, 60):
                limit = (k * 997 + n * 131) % 100_000 + 1
                got = t.filter(t.i < limit).count().execute()
                rows = t.filter(t.i < n).to_pyarrow().num_rows
                if (got, rows) != (limit, n):
                    failures.append(f"thread {k}: {got} != {limit} or {rows} != {n}")
            con.create_table(f"scratch_{k}", pa.table({"k": [k]}), temp=True)  # its own temporary table
            assert con.table(f"scratch_{k}").k.sum().execute() == k
        except Exception as exc:
            failures.append(f"thread {k}: {type(exc).__name__}: {exc}")

    at_once(work, 8)
    assert failures == []
    assert stores.warehouse is stores.opened_warehouse  # the thread that opened the stores


def test_closing_the_stores_closes_the_connections_of_threads_still_running(stores: Stores) -> None:
    ready, done = threading.Event(), threading.Event()
    held: list[BaseBackend] = []

    def hold() -> None:
        held.append(stores.warehouse)
        ready.set()
        done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(10)
    stores.close()
    try:
        (con,) = held
        with pytest.raises(Exception, match=r"(?i)closed"):
            con.raw_sql("SELECT 1")
    finally:
        done.set()
        thread.join()


def _demo(stores: Stores) -> None:
    core_logic.create_user(stores.sessions, CLI_OPERATOR, "analyst1", PASSWORD, "analyst")
    load_demo_data(stores, 200, 3)  # and computes the built-in tags


def test_a_real_server_answers_concurrent_requests_that_read_the_warehouse(tmp_path: Path) -> None:
    with running_server(tmp_path, _demo) as base:
        login = httpx.post(f"{base}/api/auth/login", json={"username": "analyst1", "password": PASSWORD})
        assert login.status_code == 200, login.text
        paths = ["/api/tags/lifecycle/evaluation", "/api/tags/values?customer=1", "/api/tags/vip/evaluation"]
        with httpx.Client(base_url=base, cookies=login.cookies, timeout=30) as client:
            expected = {path: client.get(path).json() for path in paths}
        failures: list[str] = []

        def read(k: int) -> None:
            with httpx.Client(base_url=base, cookies=login.cookies, timeout=30) as client:
                for n in range(12):
                    path = paths[(k + n) % len(paths)]
                    try:
                        response = client.get(path)
                    except httpx.TransportError as exc:
                        failures.append(f"{path}: {exc!r}")
                        continue
                    if response.status_code != 200 or response.json() != expected[path]:
                        failures.append(f"{path}: {response.status_code} {response.text[:200]}")

        at_once(read, 8)
        assert failures == [], (tmp_path / "server.log").read_text()[-2000:]
