"""The warehouse from many threads at once: each thread has its own connection to the same database."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from tagora.core.stores import Stores


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

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert stores.warehouse is stores.opened_warehouse  # the thread that opened the stores


def test_closing_the_stores_closes_the_connections_of_threads_still_running(stores: Stores) -> None:
    ready, done = threading.Event(), threading.Event()
    held: list[object] = []

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
            con.raw_sql("SELECT 1")  # type: ignore[attr-defined]
    finally:
        done.set()
        thread.join()
