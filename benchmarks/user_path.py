"""The user's own path at a given size: the README's commands run as subprocesses in a fresh home.

python benchmarks/user_path.py [--scale small|full] [--customers N] [--compare M] [--keep DIR]

generate -> import dataset -> tags install-library + compute -> segments count (first, then again),
create, portrait -> models publish -> recs train -> serve and a few API calls. Each step runs as its own
child process; its seconds and peak RSS (the largest process of the step's tree, from ``wait4``) are
printed. With ``--compare M`` the whole path runs at M customers first and each step's growth factors
(time and memory, N vs M) are printed. Targets at 1M customers (issue 20 item 18): every step's peak
memory <= 4 GB, import <= 300 s, tags <= 60 s, first count <= 10 s, models publish <= 300 s, recs train
<= 300 s, and no step growing more than 12x from 100k to 1M. The last line is one JSON object.

The machine may be shared: wall time is what a user waits, so it is what is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMALL_CUSTOMERS = 3000
SEGMENT = 'lifecycle = "loyal"'
PASSWORD = "user-path benchmark 2026"
LIMIT_MB = 4096
TARGETS_S = {"import_s": 300, "tags_s": 60, "first_count_s": 10, "models_publish_s": 300, "recs_train_s": 300}
MAX_GROWTH = 12.0


@dataclass
class Step:
    name: str
    seconds: float
    rss_mb: float
    output: str


def tagora(*args: str) -> list[str]:
    return [sys.executable, "-m", "tagora.cli", *args]


def run_step(name: str, command: list[str], env: dict[str, str], cwd: Path) -> Step:
    """The command as a child; wait4 gives its peak RSS, the largest of it and its waited-for children."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    output = child.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"step {name} failed (exit {child.returncode}):\n{output[-4000:]}")
    step = Step(name, seconds, usage.ru_maxrss / 1024, output)
    print(f"  {name:<22} {seconds:8.1f} s {step.rss_mb:9.0f} MB", flush=True)
    return step


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_calls(base: str, token: str, customer: str) -> dict[str, float]:
    """A few reads a console user makes; seconds each (every one must answer 200)."""
    paths = {
        "health": "/health",
        "stats": "/api/stats",
        "customers_search": "/api/customers?q=%E5%BC%A0",
        "customer_360": f"/api/customers/{customer}",
        "segments": "/api/segments",
        "recommendations": f"/v1/recommendations/{customer}",
    }
    timings = {}
    for name, path in paths.items():
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            if response.status != 200:
                raise SystemExit(f"GET {path} answered {response.status}")
        timings[name] = time.perf_counter() - started
    return timings


def serve_step(env: dict[str, str], cwd: Path, token: str, customer: str) -> tuple[Step, dict[str, float]]:
    """Start the server, wait for /health, make the calls, stop it with SIGTERM; peak RSS from wait4."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(cwd / "serve.log", "wb")  # noqa: SIM115 - closed below, after the child ends
    started = time.perf_counter()
    child = subprocess.Popen(tagora("serve", "--port", str(port)), env=env, cwd=cwd, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=5):
                    break
            except OSError as exc:
                if child.poll() is not None or time.monotonic() > deadline:
                    log_text = (cwd / "serve.log").read_text()[-4000:]
                    raise SystemExit("the server did not start:\n" + log_text) from exc
                time.sleep(0.2)
        ready = time.perf_counter() - started
        calls = {"ready_s": ready, **api_calls(base, token, customer)}
    finally:
        child.terminate()
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0
        log.close()
    step = Step("serve+api", time.perf_counter() - started, usage.ru_maxrss / 1024, "")
    print(f"  {step.name:<22} {step.seconds:8.1f} s {step.rss_mb:9.0f} MB  " +
          " ".join(f"{k}={v:.2f}" for k, v in calls.items()), flush=True)  # fmt: skip
    return step, calls


def user_path(customers: int, root: Path) -> tuple[dict[str, Step], dict[str, float]]:
    home, data = root / "home", root / "dataset"
    env = {**os.environ, "TAGORA_HOME": str(home), "TAGORA_ENV": "development"}
    for name in ("TAGORA_DATABASE_URL", "TAGORA_WAREHOUSE_URL"):
        env.pop(name, None)
    print(f"user path at {customers:,} customers in {root}", flush=True)
    steps: dict[str, Step] = {}

    def step(name: str, *args: str) -> Step:
        steps[name] = run_step(name, tagora(*args), env, root)
        return steps[name]

    step("generate", "generate", "--customers", str(customers), "--out", str(data))
    step("import", "import", "dataset", str(data))
    step("tags_install", "tags", "install-library")
    step("tags_compute", "tags", "compute")
    step("first_count", "segments", "count", SEGMENT, "--json")
    step("count", "segments", "count", SEGMENT, "--json")
    step("segment_create", "segments", "create", "loyal_bench", "Loyal (benchmark)", SEGMENT)
    step("segment_portrait", "segments", "portrait", "loyal_bench")
    step("models_publish", "models", "publish")
    step("recs_train", "recs", "train")
    user = step("createuser", "createuser", "bench", "--password", PASSWORD, "--token", "--json")
    token = json.loads(user.output[user.output.index("{") :])["token"]
    with open(data / "customers.csv", encoding="utf-8") as f:
        f.readline()
        customer = f.readline().split(",", 1)[0]
    steps["serve"], calls = serve_step(env, root, token, customer)
    return steps, calls


def figures(customers: int, steps: dict[str, Step], calls: dict[str, float]) -> dict[str, Any]:
    return {
        "customers": customers,
        "max_rss_mb": round(max(s.rss_mb for s in steps.values()), 1),
        "import_s": round(steps["import"].seconds, 2),
        "tags_s": round(steps["tags_compute"].seconds, 2),
        "first_count_s": round(steps["first_count"].seconds, 2),
        "models_publish_s": round(steps["models_publish"].seconds, 2),
        "recs_train_s": round(steps["recs_train"].seconds, 2),
        "steps": {n: {"s": round(s.seconds, 2), "rss_mb": round(s.rss_mb, 1)} for n, s in steps.items()},
        "api_s": {k: round(v, 3) for k, v in calls.items()},
    }


def growth(big: dict[str, Any], small: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per step, how many times the time and the memory grew from the small size to the big one."""
    out = {}
    for name, b in big["steps"].items():
        s = small["steps"][name]
        out[name] = {
            "time_x": round(b["s"] / max(s["s"], 1e-3), 2),
            "rss_x": round(b["rss_mb"] / s["rss_mb"], 2),
        }
    return out


def measure(customers: int, keep: Path | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"tagora-user-path-{customers}-", dir=keep))
    try:
        steps, calls = user_path(customers, root)
        return figures(customers, steps, calls)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "full"], default="full")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, help="also run at this size first and print growth factors")
    parser.add_argument("--keep", type=Path, help="keep each run's home and data set under this folder")
    args = parser.parse_args()
    customers = SMALL_CUSTOMERS if args.scale == "small" else args.customers
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    before = measure(args.compare, args.keep) if args.compare else None
    result = measure(customers, args.keep)
    print(f"peak memory {result['max_rss_mb']:.0f} MB (limit {LIMIT_MB})")
    for key, limit in TARGETS_S.items():
        print(f"{key:<18} {result[key]:8.1f} s (target <= {limit} s at 1M)")
    if before is not None:
        result["compare"] = {"customers": before["customers"], "growth": growth(result, before)}
        print(f"growth from {before['customers']:,} to {customers:,} customers (time x, memory x):")
        for name, g in result["compare"]["growth"].items():
            flag = "  <-- more than 12x" if max(g.values()) > MAX_GROWTH else ""
            print(f"  {name:<22} {g['time_x']:7.2f} {g['rss_x']:7.2f}{flag}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
