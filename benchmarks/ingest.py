"""Tracking API throughput: durable ``/v1/batch`` events/s and ``/v1/track`` requests/s with p50/p99,
against a bare endpoint that only reads and parses the same payloads, served the same way.

Targets (issue 3): >= 50,000 events/s through /v1/batch (100 events a call, acknowledged only once
committed to the inbox), >= 2,500 /v1/track calls/s with p99 < 50 ms, durability_ratio <= 2 (the medians of
alternating bare and durable phases). Issue 20: the loader moves >= 50,000 events/s from the inbox into the
warehouse (``loader_events_per_s``, against DuckDB appending the same rows in the same run), and at 20,000
events/s acknowledged for 60 s (a few seconds at --scale small) the p99 time from acknowledgement to
queryable is <= 10 s (``lag_p99_s``).

python benchmarks/ingest.py [--scale small|full] [--workers 2]

The load generator is this process (asyncio, raw HTTP/1.1 on keep-alive connections, request bytes built
ahead); it shares the machine's cores with the server, and its CPU share is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from fastapi import FastAPI, Request
from fastapi.responses import Response

from tagora.ingest.tracking.api import read_body
from tagora.ingest.tracking.messages import MAX_BATCH_BYTES, MAX_EVENT_BYTES, loads
from tagora.ingest.tracking.workers import listening

BENCH_DIR = Path(__file__).resolve().parent
SCALES = {  # seconds per measured phase, warm-up seconds
    "small": (1.5, 0.5),
    "full": (10.0, 2.0),
}
REPEATS = {"small": 2, "full": 3}  # bare and durable batch phases, alternating: the ratio is of medians
LOADER_EVENTS = {"small": 30_000, "full": 300_000}  # the inbox the loader is timed on
LOADER_BATCH = 20_000  # events a loader batch holds (TAGORA_TRACKING_LOADER_BATCH_SIZE's default)
LAG_SECONDS = {"small": 4.0, "full": 60.0}  # at LAG_RATE events/s acknowledged
LAG_RATE = 20_000
LAG_CONNECTIONS = 4
DRAIN_TIMEOUT_S = 120.0
BATCH_SIZE = 100
BATCH_CONNECTIONS = 8
TRACK_CONNECTIONS = 16
BACKLOG_LIMIT = 20_000_000
MARK = b"@@@@@@@@@@"  # replaced by a call number so every messageId is new


# --- the baseline: the same body reading and JSON parsing, then nothing -------------------------------


def bare_app() -> FastAPI:
    """Only for this benchmark: reads and parses a call like the tracking API, then discards it."""
    app = FastAPI()

    async def bare(request: Request, limit: int, what: str, batch: bool) -> Response:
        payload = loads(await read_body(request, limit, what))
        events = payload["batch"] if batch else [payload]
        return Response(b'{"success":true,"accepted":%d,"rejected":[]}' % len(events), 200,
                        media_type="application/json")  # fmt: skip

    @app.post("/v1/batch")
    async def batch(request: Request) -> Response:
        return await bare(request, MAX_BATCH_BYTES, "the batch", True)

    @app.post("/v1/track")
    async def track(request: Request) -> Response:
        return await bare(request, MAX_EVENT_BYTES, "the event", False)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# --- payloads -----------------------------------------------------------------------------------------


def event(n: int, i: int) -> dict[str, object]:
    """A typical analytics-python track call (about 450 bytes)."""
    return {
        "type": "track",
        "event": "Product Viewed",
        "userId": f"user-{(n * 7 + i) % 5000}",
        "anonymousId": f"anon-{(n * 13 + i) % 20000:06d}",
        "messageId": f"bench-{MARK.decode()}-{i:03d}",
        "timestamp": "2026-11-24T10:15:30.123000+00:00",
        "properties": {"sku": f"SKU-{i % 300}", "price": 19.9, "currency": "CNY", "category": "shoes"},
        "context": {
            "library": {"name": "analytics-python", "version": "2.4.0"},
            "locale": "zh-CN",
            "page": {"url": "https://shop.example.com/p/1?utm_source=wechat&utm_campaign=spring"},
        },
        "integrations": {},
    }


def request_bytes(path: str, body: bytes, key: str) -> bytes:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Calls:
    """Request bytes for call after call, each with fresh messageIds (a template with a number swapped in)."""

    def __init__(self, path: str, body: dict[str, object], key: str, prefix: str) -> None:
        self.template = request_bytes(path, json.dumps(body, separators=(",", ":")).encode(), key)
        assert len(prefix) == 1, "one character: with the 9-digit number it fills the 10-character mark"
        self.prefix = prefix.encode()
        self.n = 0

    def next(self) -> bytes:
        self.n += 1  # the number and prefix take the mark's place exactly: the length stays as declared
        return self.template.replace(MARK, self.prefix + b"%09d" % self.n)


def batch_calls(key: str, prefix: str) -> Calls:
    events = [event(0, i) for i in range(BATCH_SIZE)]
    return Calls("/v1/batch", {"batch": events, "sentAt": "2026-11-24T10:15:31.000000+00:00"}, key, prefix)


def track_calls(key: str, prefix: str) -> Calls:
    body = event(0, 1)
    body.pop("type")
    body["sentAt"] = "2026-11-24T10:15:31.000000+00:00"
    return Calls("/v1/track", body, key, prefix)


# --- the load generator -------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    calls: int = 0
    events: int = 0  # acknowledged (2xx) events
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    probed: int = 0

    def per_s(self, n: int) -> float:
        return n / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def _call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> tuple[int, bytes]:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.index(b"content-length:") + 15
    length = int(lower[at : lower.index(b"\r\n", at)])
    return status, await reader.readexactly(length)


async def _connection(port: int, calls: Calls, phase: Phase, measure_from: float, until: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    try:
        while (started := loop.time()) < until:
            status, body = await _call(reader, writer, calls.next())
            if started < measure_from:
                continue
            phase.calls += 1
            phase.statuses[status] += 1
            phase.latencies.append(loop.time() - started)
            if 200 <= status < 300:
                phase.events += int(json.loads(body)["accepted"])
    finally:
        writer.close()


async def _paced_connection(port: int, calls: Calls, phase: Phase, start: float, every_s: float,
                            until: float) -> None:  # fmt: skip
    """One call every ``every_s`` from ``start`` (a late call is sent at once: the schedule is kept)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    due = start
    try:
        while due < until:
            await asyncio.sleep(max(0.0, due - loop.time()))
            sent = loop.time()
            status, body = await _call(reader, writer, calls.next())
            phase.calls += 1
            phase.statuses[status] += 1
            phase.latencies.append(loop.time() - sent)
            if 200 <= status < 300:
                phase.events += int(json.loads(body)["accepted"])
            due += every_s
    finally:
        writer.close()


def run_paced(name: str, port: int, calls: Calls, events_per_s: int, seconds: float) -> Phase:
    """Batches of ``BATCH_SIZE`` events at ``events_per_s`` for ``seconds`` on ``LAG_CONNECTIONS``."""
    phase = Phase(name, seconds=seconds)
    every_s = LAG_CONNECTIONS * BATCH_SIZE / events_per_s

    async def drive() -> None:
        start = asyncio.get_running_loop().time() + 0.1
        jobs = [_paced_connection(port, calls, phase, start + i * every_s / LAG_CONNECTIONS, every_s,
                                  start + seconds) for i in range(LAG_CONNECTIONS)]  # fmt: skip
        await asyncio.gather(*jobs)

    asyncio.run(drive())
    return phase


def run_phase(
    name: str,
    port: int,
    calls: Calls,
    connections: int,
    scale: str,
    pids: list[int],
    probe: Callable[[], int] | None = None,
) -> Phase:
    """``probe`` is read when the measured window opens and when it closes: ``phase.probed`` is the growth."""
    seconds, warmup = SCALES[scale]
    phase = Phase(name)
    marks: list[int] = []

    async def drive() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        if probe is not None:
            loop.call_at(start + warmup, lambda: marks.append(probe()))
            loop.call_at(start + warmup + seconds, lambda: marks.append(probe()))
        jobs = [_connection(port, calls, phase, start + warmup, start + warmup + seconds)
                for _ in range(connections)]  # fmt: skip
        await asyncio.gather(*jobs)

    cpu = time.process_time()
    server_cpu = sum(cpu_seconds(p) for p in pids)
    asyncio.run(drive())
    total = seconds + warmup
    phase.seconds = seconds
    phase.client_cpu_s = (time.process_time() - cpu) * seconds / total
    phase.server_cpu_s = (sum(cpu_seconds(p) for p in pids) - server_cpu) * seconds / total
    phase.probed = marks[-1] - marks[0] if len(marks) == 2 else 0
    return phase


# --- server processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (from /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and its children (uvicorn's workers)."""
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids.extend(family(int(child)))
    return pids


@contextmanager
def server(
    args: list[str], env: dict[str, str], port: int, log: Path, workers: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, once it answers and (with several workers) every worker listens."""
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(proc, port, log)
        wait_listening(port, workers, log)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')}")


def wait_listening(port: int, workers: int, log: Path, timeout: float = 60) -> None:
    """Each gateway worker listens on a socket of its own: wait for all, not only the first to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening(port) >= workers:
            return
        time.sleep(0.1)
    raise SystemExit(f"not every worker listens:\n{log.read_text(errors='replace')}")


def tagora(*args: str) -> list[str]:
    return ["-m", "tagora.cli", *args]


def bare_server_args(port: int, workers: int) -> list[str]:
    """The baseline served exactly as the gateway is (``gateway.serve``); ``bench_env`` puts this folder
    on the path of its processes."""
    code = (
        "from tagora.ingest.tracking.gateway import serve\n"
        f"serve('ingest:bare_app', '127.0.0.1', {port}, {workers})\n"
    )
    return ["-c", code]


# --- the run ------------------------------------------------------------------------------------------


def create_write_key(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, *tagora("tracking", "keys", "create", "bench", "--json")],
                         env=env, check=True, capture_output=True, text=True).stdout  # fmt: skip
    return str(json.loads(out)["write_key"])


def inbox_counts(home: Path) -> tuple[int, int]:
    """Events in the inbox (one row per call, which counts its events), and those the loader moved on."""
    with sqlite3.connect(home / "tagora.db") as con:
        stored = con.execute("SELECT coalesce(sum(events), 0) FROM tracking_inbox_calls")
        loaded = con.execute(
            "SELECT coalesce(sum(events), 0) FROM tracking_inbox_calls WHERE loaded_at IS NOT NULL"
        )
        return int(stored.fetchone()[0]), int(loaded.fetchone()[0])


def last_call_id(home: Path) -> int:
    with sqlite3.connect(home / "tagora.db") as con:
        return int(con.execute("SELECT coalesce(max(id), 0) FROM tracking_inbox_calls").fetchone()[0])


def _utc(text: str) -> datetime:
    """A time as SQLAlchemy's SQLite ``DateTime`` stores it (UTC, without a zone)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wait_loaded(home: Path, after_id: int, timeout_s: float) -> bool:
    """Wait until the loader has marked every call after ``after_id`` loaded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with sqlite3.connect(home / "tagora.db") as con:
            left = con.execute(
                "SELECT count(*) FROM tracking_inbox_calls WHERE id > ? AND loaded_at IS NULL", (after_id,)
            ).fetchone()[0]
        if not left:
            return True
        time.sleep(0.2)
    return False


def lag_p99_s(home: Path, after_id: int) -> float:
    """The p99, over events, of the time from a call's receipt (just before its acknowledgement) to the
    loader marking it loaded (just after its events became queryable in the warehouse); an event not
    loaded yet counts until now."""
    now = datetime.now(UTC)
    with sqlite3.connect(home / "tagora.db") as con:
        rows = con.execute(
            "SELECT received_at, loaded_at, events FROM tracking_inbox_calls WHERE id > ?", (after_id,)
        ).fetchall()
    weighted = sorted(
        (((_utc(done) if done else now) - _utc(got)).total_seconds(), n) for got, done, n in rows
    )
    total, seen = sum(n for _, n in weighted), 0
    for lag, n in weighted:
        seen += n
        if seen >= 0.99 * total:
            return lag
    return 0.0


def bare_append_events_per_s(home: Path) -> tuple[float, int]:
    """DuckDB appending the rows the loader stored (read back as Arrow) to an empty table of the same
    schema in a new database file beside the warehouse, a commit per loader batch and a checkpoint at the
    end (as the loader's writes are, sooner or later): the floor under any loader. The median of three."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as source:
        rows = source.execute("SELECT * FROM events").arrow()
        rows = rows.read_all() if hasattr(rows, "read_all") else rows
    rates = []
    for attempt in range(3):
        with duckdb.connect(str(home / f"bare-append-{attempt}.duckdb")) as con:
            con.execute("CREATE TABLE events AS SELECT * FROM rows LIMIT 0")
            started = time.perf_counter()
            for start in range(0, rows.num_rows, LOADER_BATCH):
                con.register("part", rows.slice(start, LOADER_BATCH))
                con.execute("INSERT INTO events SELECT * FROM part")
                con.unregister("part")
            con.execute("CHECKPOINT")
            rates.append(rows.num_rows / (time.perf_counter() - started))
    return statistics.median(rates), rows.num_rows


def describe(phase: Phase, unit: str) -> str:
    count = phase.events if unit == "events" else phase.calls
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(phase.statuses.items()))
    per = phase.server_cpu_s / count * 1e6 if count else 0.0
    return (
        f"{phase.name:<28} {phase.per_s(count):>9,.0f} {unit}/s  p50 {phase.percentile_ms(0.5):6.1f} ms  "
        f"p99 {phase.percentile_ms(0.99):6.1f} ms  [{statuses}]  server CPU {per:5.1f} us per {unit[:-1]}"
        f" ({phase.server_cpu_s / phase.seconds:.2f} cores), client {phase.client_cpu_s / phase.seconds:.2f}"
        " cores"
    )


def bench_env(home: Path, **extra: str) -> dict[str, str]:
    folders = (str(BENCH_DIR.parent / "src"), str(BENCH_DIR), os.environ.get("PYTHONPATH"))
    path = os.pathsep.join(p for p in folders if p)
    return {**os.environ, "TAGORA_HOME": str(home), "TAGORA_ENV": "production", "PYTHONPATH": path,
            "TAGORA_SECRET_KEY": base64.b64encode(os.urandom(24)).decode(), **extra}  # fmt: skip


@dataclass
class Run:
    scale: str
    key: str
    log: Path

    def phase(
        self, name: str, port: int, calls: Calls, pids: list[int], probe: Callable[[], int] | None = None
    ) -> Phase:
        connections = BATCH_CONNECTIONS if "batch" in name else TRACK_CONNECTIONS
        return run_phase(name, port, calls, connections, self.scale, pids, probe)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=tuple(SCALES), default="full")
    parser.add_argument("--workers", type=int, default=2, help="gateway worker processes (production: cores)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tagora-bench-ingest-"))
    home = work / "home"
    # Without a loader the inbox only grows; the default backlog limit (200,000) would turn this into a
    # benchmark of 429 answers, so it is raised here (refusals would show among the statuses).
    env = bench_env(home, TAGORA_TRACKING_MAX_BACKLOG=str(BACKLOG_LIMIT))
    run = Run(args.scale, create_write_key(env), work / "servers.log")
    cores = os.cpu_count() or 1
    print(
        f"tracking API ({args.scale}): tagora tracking serve --workers {args.workers} on {cores} cores, "
        f"SQLite inbox (WAL, synchronous=NORMAL), backlog limit {BACKLOG_LIMIT:,};\n"
        "the load generator (this process) shares the cores"
    )

    # The bare and the durable server run side by side, and their batch phases alternate, so that a
    # change in the machine's speed during the run weighs on both alike; the ratio is of the medians.
    bare_port, port, main_port = free_port(), free_port(), free_port()
    gateway = tagora("tracking", "serve", "--port", str(port), "--workers", str(args.workers))
    idle_main = {**env, "TAGORA_TRACKING_LOADER_INTERVAL_S": "0"}
    bare_batches: list[Phase] = []
    batches: list[Phase] = []
    with (
        server(bare_server_args(bare_port, args.workers), env, bare_port, run.log, args.workers) as bare,
        server(gateway, env, port, run.log, args.workers) as proc,
    ):
        bare_pids, pids = family(bare.pid), family(proc.pid)
        with server(tagora("serve", "--port", str(main_port)), idle_main, main_port, run.log):
            for r in range(REPEATS[args.scale]):
                bare_calls, durable_calls = batch_calls(run.key, "pqr"[r]), batch_calls(run.key, "bcd"[r])
                bare_batches.append(run.phase("bare /v1/batch", bare_port, bare_calls, bare_pids))
                batches.append(run.phase("durable /v1/batch", port, durable_calls, pids))
            stored, _ = inbox_counts(home)  # the inbox holds only the durable batch phases' events so far
            bare_track = run.phase("bare /v1/track", bare_port, track_calls(run.key, "y"), bare_pids)
            track = run.phase("durable /v1/track", port, track_calls(run.key, "t"), pids)
        # The loader lives in `tagora serve` (it owns DuckDB): the API with the loader busy beside it.
        with server(tagora("serve", "--port", str(main_port)), env, main_port, run.log) as main_proc:
            both = pids + family(main_proc.pid)
            loading = run.phase("durable /v1/batch + loader", port, batch_calls(run.key, "l"), both,
                                probe=lambda: inbox_counts(home)[1])  # fmt: skip
    loader, lag, lag_phase = measure_loader(args, run, work)

    for phase, unit in ((bare_batches[0], "events"), (batches[0], "events"), (loading, "events"),
                        (bare_track, "calls"), (track, "calls"), (lag_phase, "events")):  # fmt: skip
        print(describe(phase, unit))
    bare_rate = statistics.median(p.per_s(p.events) for p in bare_batches)
    rate = statistics.median(p.per_s(p.events) for p in batches)
    ratio = bare_rate / rate if rate else float("inf")
    median_batch = sorted(batches, key=lambda p: p.per_s(p.events))[len(batches) // 2]
    ratios = ", ".join(f"{b.per_s(b.events) / d.per_s(d.events):.2f}" for b, d in zip(bare_batches, batches,
                       strict=True) if d.events)  # fmt: skip
    print(f"durability costs {ratio:.2f}x the bare endpoint (medians of {len(batches)}; each pair: {ratios}; "
          "target <= 2)")  # fmt: skip
    print(f"the inbox holds {stored:,} events of the durable batch phases")
    print(f"beside the API the loader moved {loading.per_s(loading.probed):,.0f} events/s while the API took "
          f"{loading.per_s(loading.events):,.0f}")  # fmt: skip
    print(f"the loader alone: {loader['loaded']:,} events in {loader['seconds']:.2f} s = "
          f"{loader['events_per_s']:,.0f} events/s (target >= 50,000); DuckDB appends the same rows at "
          f"{loader['bare_events_per_s']:,.0f} events/s ({loader['ratio']:.1f}x the loader)")  # fmt: skip
    print(f"at {lag_phase.per_s(lag_phase.events):,.0f} events/s acknowledged for {lag_phase.seconds:.0f} s, "
          f"the p99 time from acknowledgement to queryable was {lag:.2f} s (target <= 10)")  # fmt: skip
    result = {
        "scale": args.scale,
        "workers": args.workers,
        "cores": cores,
        "batch_events_per_s": round(rate),
        "bare_batch_events_per_s": round(bare_rate),
        "durability_ratio": round(ratio, 2),
        "durability_repeats": len(batches),
        "batch_p99_ms": round(median_batch.percentile_ms(0.99), 1),
        "batch_statuses": dict(sum((p.statuses for p in batches), Counter())),
        "batch_server_cpu_us_per_event": round(
            median_batch.server_cpu_s / max(median_batch.events, 1) * 1e6, 1
        ),
        "batch_events_per_s_with_loader": round(loading.per_s(loading.events)),
        "loader_events_per_s_beside_api": round(loading.per_s(loading.probed)),
        "loader_events_per_s": round(loader["events_per_s"]),
        "bare_append_events_per_s": round(loader["bare_events_per_s"]),
        "loader_bare_ratio": round(loader["ratio"], 2),
        "lag_events_per_s": round(lag_phase.per_s(lag_phase.events)),
        "lag_seconds": lag_phase.seconds,
        "lag_p99_s": round(lag, 2),
        "track_rps": round(track.per_s(track.calls)),
        "track_p50_ms": round(track.percentile_ms(0.5), 1),
        "track_p99_ms": round(track.percentile_ms(0.99), 1),
        "track_statuses": dict(track.statuses),
        "bare_track_rps": round(bare_track.per_s(bare_track.calls)),
        "client_cores": round(
            (median_batch.client_cpu_s + track.client_cpu_s) / (median_batch.seconds + track.seconds), 2
        ),
        "inbox_batch_events": stored,
    }
    print(json.dumps(result))


def measure_loader(args: argparse.Namespace, run: Run, work: Path) -> tuple[dict[str, float], float, Phase]:
    """On a home of its own: the loader timed alone on ``LOADER_EVENTS`` acknowledged events (``tagora
    tracking load``, its own report of the loading time), DuckDB's bare append of the rows it stored, then
    the lag at ``LAG_RATE`` events/s with ``tagora serve``'s loader running."""
    home = work / "loader-home"
    env = bench_env(home, TAGORA_TRACKING_MAX_BACKLOG=str(BACKLOG_LIMIT))
    key = create_write_key(env)
    port, main_port = free_port(), free_port()
    gateway = tagora("tracking", "serve", "--port", str(port), "--workers", str(args.workers))
    calls = batch_calls(key, "f")
    with server(gateway, env, port, run.log, args.workers):  # the gateway needs no warehouse: it stays up
        asyncio.run(_fill(port, calls, LOADER_EVENTS[args.scale]))
        command = [sys.executable, *tagora("tracking", "load", "--json")]
        load = subprocess.run(command, env=env, capture_output=True, text=True)
        if load.returncode:
            raise SystemExit(f"tagora tracking load failed:\n{load.stdout}{load.stderr}")
        report = json.loads(load.stdout)
        bare_rate, rows = bare_append_events_per_s(home)
        assert rows == report["loaded"], (rows, report)
        with server(tagora("serve", "--port", str(main_port)), env, main_port, run.log):
            after = last_call_id(home)
            phase = run_paced(f"{LAG_RATE:,} events/s paced", port, calls, LAG_RATE, LAG_SECONDS[args.scale])
            wait_loaded(home, after, DRAIN_TIMEOUT_S)
            lag = lag_p99_s(home, after)
    loader_rate = report["loaded"] / report["seconds"] if report["seconds"] else float("inf")
    loader = {
        "loaded": report["loaded"],
        "seconds": report["seconds"],
        "events_per_s": loader_rate,
        "bare_events_per_s": bare_rate,
        "ratio": bare_rate / loader_rate if loader_rate else float("inf"),
    }
    return loader, lag, phase


async def _fill(port: int, calls: Calls, events: int) -> None:
    """Send ``events`` events in batch calls on ``BATCH_CONNECTIONS`` connections, as fast as answered."""
    left = [events // BATCH_SIZE]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left[0] > 0:
                left[0] -= 1
                status, _ = await _call(reader, writer, calls.next())
                assert status == 200, status
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(BATCH_CONNECTIONS)))


if __name__ == "__main__":
    main()
