"""Recommender training time (ItemCF, ALS) and serving latency through the HTTP API.

python benchmarks/recs.py [--scale small|full] [--requests N] [--threads N]

Full scale: ItemCF and ALS (64 factors) fitted on Online Retail and on 5M synthetic interactions
(500k customers x 50k products, Zipf item popularity, long-tailed customer activity), and p50/p99 of
10,000 ``GET /v1/recommendations/{customer}`` against a running server (one uvicorn process) serving the
production hybrid trained on Online Retail. Targets (issue 7): ALS on 5M <= 45 s, ItemCF on 5M <= 5 s
(2 cores), serving p99 <= 10 ms. Baseline in the same run: global popularity on the same matrices.
``--scale small`` uses the first 20,000 Online Retail lines, 50k synthetic interactions and 500 requests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit's advice: its own threads, a 1-thread BLAS

import httpx
import numpy as np
import scipy.sparse as sp

from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest.logic import import_online_retail
from tagora.profiles import facade as profiles
from tagora.recs import logic as recs_logic
from tagora.recs.als import ALS
from tagora.recs.base import Recommender
from tagora.recs.interactions import Interactions, build_interactions, empty_items
from tagora.recs.itemcf import ItemCF
from tagora.recs.popularity import Popularity
from tagora.recs.queries import catalogue, store_behaviours
from tagora.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online-retail"
FILE = DATA / "online_retail_2010-12-01_2011-09-30.csv.gz"
SMALL_LINES = 20000
SECRET = "bench-secret-0123456789"


def retail_file(scale: str, work: Path) -> Path:
    if scale == "full":
        return FILE
    small = work / "online_retail_small.csv.gz"
    with gzip.open(FILE, "rt", encoding="utf-8") as src, gzip.open(small, "wt", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > SMALL_LINES:
                break
            dst.write(line)
    return small


def synthetic(customers: int, products: int, n: int, seed: int = 7) -> Interactions:
    """``n`` purchases: Zipf-like item popularity (exponent 0.8), log-normal customer activity."""
    rng = np.random.default_rng(seed)
    activity = rng.lognormal(0.0, 1.0, customers)
    popularity = 1.0 / np.arange(1, products + 1) ** 0.8
    rows = rng.choice(customers, n, p=activity / activity.sum()).astype(np.int32)
    cols = rng.permutation(products)[rng.choice(products, n, p=popularity / popularity.sum())]
    cols = cols.astype(np.int32)
    at = 1.6e9 + rng.uniform(0, 365 * 86400, n)
    # The same weighting as real purchases: 4 * log1p(count), saturating at two.
    ones = np.ones(n, dtype=np.float32)
    matrix = sp.csr_matrix((ones, (rows, cols)), shape=(customers, products))
    matrix.sum_duplicates()
    matrix.data = (4.0 * np.log1p(np.minimum(matrix.data, 2.0))).astype(np.float32)
    return Interactions(
        matrix=matrix,
        uids=np.arange(1, customers + 1, dtype=np.int64),
        items=empty_items([f"P{i}" for i in range(products)]),
        purchase_rows=rows,
        purchase_cols=cols,
        purchase_at=at,
        purchase_basket=np.arange(n, dtype=np.int64),
        as_of=float(at.max()),
    )


def fit_seconds(make: Callable[[], Recommender], X: Interactions) -> tuple[float, float]:
    """Wall-clock and CPU seconds (every thread) of one fit: on a shared machine the CPU time is what
    the work costs, the wall time also holds the waits for a core."""
    started, cpu = time.perf_counter(), time.process_time()
    make().fit(X)
    return time.perf_counter() - started, time.process_time() - cpu


def training(X: Interactions, threads: int, label: str) -> dict[str, tuple[float, float]]:
    figures = {
        "popularity": fit_seconds(Popularity, X),
        "itemcf": fit_seconds(lambda: ItemCF(neighbours=100, shrink=1.0, num_threads=threads), X),
        "als": fit_seconds(lambda: ALS(factors=64, iterations=10, num_threads=threads), X),
    }
    print(
        f"{label}: {X.shape[0]:,} customers x {X.shape[1]:,} products, {X.matrix.nnz:,} interactions; "
        + ", ".join(f"{k} {wall:.2f} s ({cpu:.1f} CPU s)" for k, (wall, cpu) in figures.items())
    )
    return figures


@contextmanager
def api_server(home: Path) -> Iterator[tuple[str, str, int]]:
    """A real server (one uvicorn process) over ``home``; yields its URL and an API token."""
    stores = open_stores(Settings(env="test", home=home, secret_key=SECRET))
    try:
        core_logic.create_user(stores.sessions, CLI_OPERATOR, "bench", "bench-password-123", "marketer")
        token = core_logic.issue_api_token(stores.sessions, CLI_OPERATOR, "bench", "bench")
    finally:
        stores.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TAGORA_HOME": str(home), "TAGORA_ENV": "test", "TAGORA_SECRET_KEY": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tagora.app:create_app", "--port", str(port),
         "--log-level", "warning"], env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, token, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def customer_keys(stores: Stores, count: int, seed: int = 3) -> list[str]:
    uids = [int(u) for u in build_interactions(store_behaviours(stores)).uids]
    with stores.sessions() as session:
        keys = list(profiles.customer_keys(session, uids).values())
    rng = np.random.default_rng(seed)
    return [keys[i] for i in rng.integers(0, len(keys), count)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serving(home: Path, keys: list[str]) -> tuple[list[float], float]:
    """Client-side latencies (ms) and the server's CPU ms per request."""
    with (
        api_server(home) as (url, token, pid),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        client.get(f"/v1/recommendations/{keys[0]}", timeout=600).raise_for_status()  # loads the model
        out = []
        cpu = cpu_seconds(pid)
        for key in keys:
            started = time.perf_counter()
            response = client.get(f"/v1/recommendations/{key}", params={"n": 10}, timeout=60)
            out.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            if not response.json()["items"]:
                raise SystemExit(f"no recommendations for {key}")
        server_ms = (cpu_seconds(pid) - cpu) * 1000 / len(keys)
    return out, server_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["small", "full"], default="full")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--threads", type=int, default=0, help="training threads (0: every core)")
    args = parser.parse_args()
    full = args.scale == "full"
    requests = args.requests or (10_000 if full else 500)
    # The machine may be shared: the load before and after says how far the timings can be trusted.
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        stores = open_stores(Settings(env="test", home=home, secret_key=SECRET))
        try:
            started = time.perf_counter()
            import_online_retail(stores, CLI_OPERATOR, retail_file(args.scale, Path(tmp)))
            print(f"imported Online Retail in {time.perf_counter() - started:.1f} s")
            retail_X = build_interactions(store_behaviours(stores), catalogue(stores))
            retail = training(retail_X, args.threads, "Online Retail")
            started = time.perf_counter()
            report = recs_logic.train_model(stores, CLI_OPERATOR, "hybrid")
            took = time.perf_counter() - started
            print(f"production hybrid {report.blend} trained and saved in {took:.1f} s")
            keys = customer_keys(stores, requests)
        finally:
            stores.close()
        size = (500_000, 50_000, 5_000_000) if full else (5_000, 1_000, 50_000)
        started = time.perf_counter()
        X = synthetic(*size)
        print(f"generated synthetic interactions in {time.perf_counter() - started:.1f} s")
        big = training(X, args.threads, "synthetic")
        del X
        latencies, server_cpu_ms = serving(home, keys)
    p50, p99 = float(np.percentile(latencies, 50)), float(np.percentile(latencies, 99))
    print(f"serving (one uvicorn process, keep-alive, n=10): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"over {len(latencies):,} requests for random Online Retail customers, production hybrid")
    print(f"server CPU per request: {server_cpu_ms:.2f} ms")
    load_after = os.getloadavg()[0]
    print(f"1-minute load average {load_before:.1f} before, {load_after:.1f} after ({os.cpu_count()} cores)")
    figures = {
        "scale": args.scale, "threads": args.threads or os.cpu_count(),
        "als_factors": 64, "als_iterations": 10,
        "synthetic_interactions": size[2], "retail_interactions": int(retail_X.matrix.nnz),
        "als_5m_s": round(big["als"][0], 2), "itemcf_5m_s": round(big["itemcf"][0], 2),
        "als_5m_cpu_s": round(big["als"][1], 1), "itemcf_5m_cpu_s": round(big["itemcf"][1], 1),
        "popularity_5m_s": round(big["popularity"][0], 3),
        "als_retail_s": round(retail["als"][0], 2), "itemcf_retail_s": round(retail["itemcf"][0], 2),
        "popularity_retail_s": round(retail["popularity"][0], 3),
        "requests": len(latencies), "serve_p50_ms": round(p50, 3), "serve_p99_ms": round(p99, 3),
        "server_cpu_ms_per_request": round(server_cpu_ms, 3),
        "load_before": round(load_before, 2), "load_after": round(load_after, 2),
    }  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
