"""The job kinds Tagora runs and their recurring schedules (``docs/jobs.md``).

Each kind is a function ``(stores, actor, params, progress) -> result`` registered in the job queue
(``core.jobs``); ``tagora worker`` and the worker inside ``tagora serve``/``demo`` run them
(``core.job_runner``). The built-in schedules run the full tag run every night (it then queues pruning and,
when it succeeded, the segment re-counts), and retrain recommendations and the value/churn models.
The ``cli`` kind (a command handed over by the CLI while this process holds the warehouse) lives in
``core.cli_jobs``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tagora.audiences import facade as audiences
from tagora.core import jobs
from tagora.core.auth import Principal, Role
from tagora.core.stores import Stores
from tagora.recs import facade as recs
from tagora.scoring import facade as scoring
from tagora.tags import facade as tags

WORKER = Principal(username="worker", role=Role.ADMIN)  # who queues the scheduled jobs

# name -> (kind, cron in UTC); an admin changes them with ``tagora jobs schedule``
SCHEDULES = {
    "tags.compute": ("tags.compute", "0 2 * * *"),
    "recs.train": ("recs.train", "30 3 * * *"),
    "models.publish": ("models.publish", "0 4 * * *"),
}


def compute_tags(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    """A full tag run; old snapshots are pruned after it either way, segments re-counted if it succeeded."""
    progress(0.0, "computing every live tag")
    run = tags.compute_tags(stores, actor)
    jobs.enqueue(stores.sessions, actor, "tags.prune")
    result = {"run": run.id, "tags": len(run.tags), "customers": run.customers, "values": run.values_written}
    if run.status != "succeeded":  # tried again later (a failed run never counts as the night's run)
        errors = "; ".join(f"{k}: {v}" for k, v in run.errors.items())
        raise RuntimeError(f"tag run {run.id} {run.status}: {errors}")
    jobs.enqueue(stores.sessions, actor, "segments.refresh")
    return result


def prune_tags(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    done = tags.prune_history(stores, actor, stores.settings.tag_history_days)
    return {"snapshots": done.snapshots, "values": done.values, "abandoned_runs": done.abandoned_runs}


def refresh_segments(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    return {"segments": audiences.refresh_segments(stores)}


def train_recs(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    status, detail = recs.retrain(stores, actor)  # "skipped" with nothing to learn from yet
    return {"status": status, "detail": detail}


def publish_models(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    status, detail = scoring.publish_if_due(stores, actor, timedelta(0))  # "skipped" without orders
    return {"status": status, "detail": detail}


def register_kinds() -> None:
    jobs.register("tags.compute", compute_tags)
    jobs.register("tags.prune", prune_tags)
    jobs.register("segments.refresh", refresh_segments)
    jobs.register("recs.train", train_recs)
    jobs.register("models.publish", publish_models)


register_kinds()
