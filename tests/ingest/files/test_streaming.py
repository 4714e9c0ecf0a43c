"""A million-row CSV streams through in chunks with bounded memory (run in a child process to measure it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROWS = 1_000_000
CHILD = """
import json, resource, sys
from pathlib import Path
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import open_stores
from tagora.ingest.files.logic import import_customers_file
from tagora.settings import Settings

stores = open_stores(Settings(env="test", home=Path(sys.argv[2]), secret_key="test-secret-key-0123456789"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = import_customers_file(stores, CLI_OPERATOR, sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
stores.close()
print(json.dumps({"report": report.model_dump(mode="json"), "grew_mb": (after - before) / 1024}))
"""


def write_customers(path: Path, rows: int) -> None:
    provinces = ["广东", "浙江省", "Beijing", "上海", "四川"]
    cities = ["深圳", "杭州", "北京", "上海", "成都"]
    with path.open("w", encoding="utf-8") as f:
        f.write("customer_key,name,gender,phone,email,province,city,registered_at\n")
        for i in range(rows):
            f.write(
                f"C{i:07d}, Name {i} ,{'男' if i % 2 else '女'},138{i:08d},User{i}@Example.com,"
                f"{provinces[i % 5]},{cities[i % 5]},2023-03-01 10:{i % 60:02d}\n"
            )
        f.write("C0000000,Last Wins,,,,,,\n")  # a repeat of the first key, a million rows later
        f.write(",no key,,,,,,\n")


@pytest.mark.slow
def test_a_million_row_csv_imports_in_chunks_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    write_customers(path, ROWS)
    assert path.stat().st_size > 90_000_000
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=600,  # a guard only: the test is about memory, and CI shares two cores
        check=False,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    report = result["report"]
    assert report["rows_read"] == ROWS + 2
    assert (report["rows_loaded"], report["rows_rejected"]) == (ROWS + 1, 1)
    assert report["duplicates_in_file"] == 1 and report["duplicate_keys"] == ["C0000000"]
    assert report["created"] == ROWS and report["chunks_committed"] == 21
    # Holding the file's rows as Python objects would take well over 1 GB; a 50,000-row chunk far less.
    assert result["grew_mb"] < 400, result["grew_mb"]


ORDER_LINES = 300_000
ORDERS_CHILD = """
import json, resource, sys
from pathlib import Path
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import open_stores
from tagora.ingest.files.logic import import_customers_file, import_orders_file
from tagora.settings import Settings

stores = open_stores(Settings(env="test", home=Path(sys.argv[3]), secret_key="test-secret-key-0123456789"))
import_customers_file(stores, CLI_OPERATOR, sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = import_orders_file(stores, CLI_OPERATOR, sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
orders = stores.warehouse.table("orders")
amount = float(orders.amount.sum().to_pyarrow().as_py())
stores.close()
out = {"report": report.model_dump(mode="json"), "grew_mb": (after - before) / 1024, "amount": amount}
print(json.dumps(out))
"""


def write_order_lines(path: Path, customers: Path, rows: int) -> None:
    with customers.open("w", encoding="utf-8") as f:
        f.write("customer_key\n")
        f.writelines(f"C{i:05d}\n" for i in range(1000))
    with path.open("w", encoding="utf-8") as f:
        f.write("order_id,customer_key,ordered_at,sku,quantity,unit_price,channel\n")
        for i in range(rows):
            quantity = -1 if i % 50 == 0 else 1 + i % 3
            f.write(f"O{i // 3:07d},C{(i // 3) % 1000:05d},2024-03-01 10:{i % 60:02d},SKU{i % 977},")
            f.write(f"{quantity},12.50,web\n")


@pytest.mark.slow
def test_a_large_order_lines_csv_imports_in_chunks_with_bounded_memory(tmp_path: Path) -> None:
    path, customers = tmp_path / "order_lines.csv", tmp_path / "customers.csv"
    write_order_lines(path, customers, ORDER_LINES)
    child = subprocess.run(
        [sys.executable, "-c", ORDERS_CHILD, str(path), str(customers), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    report = result["report"]
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (
        ORDER_LINES,
        ORDER_LINES,
        0,
    )
    assert report["records_written"] == ORDER_LINES and report["chunks_committed"] == 6
    # 100,000 orders, a cancellation beside the purchase where a -1 line falls
    assert report["orders_created"] == 100_000 + ORDER_LINES // 50
    expected = sum((-1 if i % 50 == 0 else 1 + i % 3) * 12.5 for i in range(ORDER_LINES))
    assert result["amount"] == pytest.approx(expected)
    assert result["grew_mb"] < 400, result["grew_mb"]
