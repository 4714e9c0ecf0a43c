"""``tagora worker``: the scheduled jobs, run when due — every live tag computed, tag snapshots older
than ``tag_history_days`` removed, then every dynamic segment re-counted (its daily size), then the
recommendation model retrained — each reported with its status, duration and error.

Tag runs keep their own record (``tagora tags runs``). An embedded DuckDB warehouse admits one process:
run the worker while the server is stopped (e.g. nightly from cron with ``--once``), or on a server
warehouse beside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from tagora.audiences import facade as audiences
from tagora.core.auth import Principal, Role
from tagora.core.clock import utcnow
from tagora.core.stores import Stores
from tagora.recs import facade as recs
from tagora.scoring import facade as scoring
from tagora.tags import facade as tags

WORKER = Principal(username="worker", role=Role.ADMIN)


@dataclass(frozen=True)
class JobResult:
    job: str
    status: str  # succeeded | failed | skipped
    detail: str
    seconds: float


def tag_run_due(stores: Stores, every: timedelta) -> bool:
    """Due when no run over everyone has succeeded within ``every``."""
    last = tags.last_full_run(stores)
    return last is None or last.finished_at is None or utcnow() - last.finished_at >= every


def _timed(job: str, work: Callable[[], tuple[str, str]]) -> JobResult:
    started = time.perf_counter()
    try:
        status, detail = work()
    except Exception as exc:  # one failing job is reported; the worker carries on
        status, detail = "failed", f"{type(exc).__name__}: {exc}"
    return JobResult(job, status, detail, round(time.perf_counter() - started, 3))


def run_due(stores: Stores, every: timedelta, force: bool = False) -> list[JobResult]:
    """Run the jobs that are due (all of them with ``force``); returns what each did."""
    if not (force or tag_run_due(stores, every)):
        return [JobResult("tags.compute", "skipped", "not due", 0.0)]

    def compute() -> tuple[str, str]:
        run = tags.compute_tags(stores, WORKER)
        detail = f"run {run.id}: {len(run.tags)} tags, {run.customers} customers, {run.values_written} values"
        errors = "; ".join(f"{k}: {v}" for k, v in run.errors.items())
        return run.status, f"{detail}{' — ' + errors if errors else ''}"

    def prune() -> tuple[str, str]:
        days = stores.settings.tag_history_days
        done = tags.prune_history(stores, WORKER, days)
        abandoned = (
            f"; {done.abandoned_runs} abandoned runs recorded as failed" if done.abandoned_runs else ""
        )
        return "succeeded", f"{done.snapshots} tag snapshots ({done.values} values) removed{abandoned}"

    def recount() -> tuple[str, str]:
        return "succeeded", f"{audiences.refresh_segments(stores)} segments re-counted"

    def models() -> tuple[str, str]:  # value and churn models retrain when their schedule says so
        return scoring.publish_if_due(stores, WORKER, timedelta(0) if force else every)

    first = _timed("tags.compute", compute)
    pruned = _timed("tags.prune", prune)  # never the current values: also after a failed run
    # Recommendations and models are retrained either way: they learn from orders and events, not from tags.
    if first.status != "succeeded":
        skipped = JobResult("segments.refresh", "skipped", "the tag run failed", 0.0)
        return [
            first,
            pruned,
            skipped,
            _timed("recs.train", lambda: recs.retrain(stores, WORKER)),
            _timed("models.publish", models),
        ]
    return [
        first,
        pruned,
        _timed("segments.refresh", recount),
        _timed("recs.train", lambda: recs.retrain(stores, WORKER)),
        _timed("models.publish", models),
    ]


def run_worker(
    stores: Stores,
    every: timedelta,
    poll_s: float,
    report: Callable[[JobResult], None],
    stop: threading.Event | None = None,
) -> None:
    """Check every ``poll_s`` seconds and run what is due, until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        for result in run_due(stores, every):
            if result.status != "skipped":
                report(result)
        stop.wait(poll_s)
