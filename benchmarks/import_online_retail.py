"""Online Retail import vs. the bare DuckDB read of the same file into Arrow (target: ratio <= 4).

python benchmarks/import_online_retail.py [--scale small|full]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import open_stores
from tagora.ingest.logic import import_online_retail
from tagora.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online-retail"
FILE = DATA / "online_retail_2010-12-01_2011-09-30.csv.gz"
SMALL_LINES = 20000


def prepare(scale: str, work: Path) -> Path:
    if scale == "full":
        return FILE
    small = work / "online_retail_small.csv.gz"
    with gzip.open(FILE, "rt", encoding="utf-8") as src, gzip.open(small, "wt", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > SMALL_LINES:
                break
            dst.write(line)
    return small


def duckdb_read(path: Path) -> float:
    started = time.perf_counter()
    con = duckdb.connect()
    con.read_csv(str(path), all_varchar=True).to_arrow_table()
    con.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=("small", "full"), default="full")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tagora-bench-"))
    try:
        path = prepare(args.scale, work)
        duckdb_read(path)  # warm the page cache and imports
        read_s = min(duckdb_read(path) for _ in range(3))
        stores = open_stores(
            Settings(env="test", home=work / "home", secret_key="bench-secret-key-0123456789")
        )
        try:
            report = import_online_retail(stores, CLI_OPERATOR, path)
        finally:
            stores.close()
        import_s = report.seconds
        print(f"file: {path.name} ({args.scale}), {report.rows_read:,} lines")
        print(f"duckdb read into arrow (baseline): {read_s:.3f} s")
        print(f"tagora import (clean + load):      {import_s:.3f} s")
        print(f"ratio: {import_s / read_s:.2f} (target <= 4 at full scale)")
        print(
            json.dumps(
                {
                    "scale": args.scale,
                    "lines": report.rows_read,
                    "lines_per_s": round(report.rows_read / import_s),
                    "import_s": round(import_s, 3),
                    "duckdb_read_s": round(read_s, 3),
                    "ratio": round(import_s / read_s, 2),
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
