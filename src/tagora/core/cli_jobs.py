"""CLI commands while a server runs: hand the command to the worker that holds the warehouse, follow it.

An embedded DuckDB file admits one read-write process, and ``tagora serve`` (or ``tagora worker``) keeps it
open. So a command that needs the warehouse does not open it when a live worker holds it: it queues a
``cli`` job with its arguments (paths made absolute), the worker runs the same command on its own stores,
and this process prints the job's output and exits with its exit code. Commands that need only the
metadata database (``createuser``, ``jobs``) never touch the warehouse and run here. Without a live worker
a command runs here as it always did.
"""

from __future__ import annotations

import io
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TextIO

import typer
from typer._click.core import Context
from typer._click.exceptions import ClickException
from typer._click.globals import get_current_context

from tagora.core import jobs
from tagora.core.auth import Principal
from tagora.core.cli_argv import ARGV
from tagora.core.job_runner import STALE_AFTER, JobRunner, live_worker
from tagora.core.stores import Stores

CLI_KIND = "cli"
_job_stores: ContextVar[Stores | None] = ContextVar("tagora_job_stores", default=None)


def job_stores() -> Stores | None:
    """The worker's stores when this command runs as a ``cli`` job inside it."""
    return _job_stores.get()


# Options that name a file a command writes (it need not exist yet), whatever type the command gave them.
FILE_OPTIONS = {"-o", "--output", "--out", "--errors"}


def _absolute(argv: list[str], ctx: Context) -> list[str]:
    """Paths in ``argv`` made absolute: the worker runs in another directory."""
    given = {str(v) for v in ctx.params.values() if isinstance(v, Path)}
    out: list[str] = []
    for i, arg in enumerate(argv):
        option, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        names_file = (option in FILE_OPTIONS) or (i > 0 and not option and argv[i - 1] in FILE_OPTIONS)
        if value not in ("", "-") and (
            value in given or names_file or (value and not value.startswith("-") and Path(value).exists())
        ):
            value = str(Path(value).resolve())
        out.append(f"{option}{eq}{value}")
    return out


def hand_off(stores: Stores, actor: Principal) -> None:
    """If a live worker holds this home's warehouse, run the current command there and exit with its code;
    otherwise return, and the command runs here."""
    worker = live_worker(stores.sessions, stores.settings.resolved_warehouse_url)
    ctx = get_current_context(silent=True)
    if worker is None or ctx is None or ARGV not in ctx.meta:
        return
    register(ctx.find_root().command)  # should no worker be left to run it, ``follow`` runs it here
    params = {"argv": _absolute(ctx.meta[ARGV], ctx)}
    job = jobs.enqueue(stores.sessions, actor, CLI_KIND, params, max_attempts=2)
    err = typer.get_text_stream("stderr")
    err.write(f"a running Tagora server holds the warehouse: job {job.id} runs this command there\n")
    done = follow(stores, actor, job.id)
    result = done.result or {}
    sys.stdout.write(str(result.get("stdout", "")))
    err.write(str(result.get("stderr", "")))
    if done.status != jobs.SUCCEEDED and "exit_code" not in result:
        err.write(f"job {job.id} {done.status}: {done.error or ''}\n")
        raise typer.Exit(1)
    raise typer.Exit(int(result.get("exit_code", 0)))


def follow(stores: Stores, actor: Principal, job_id: int, poll_s: float = 0.2) -> jobs.JobPublic:
    """Wait for the job to end, showing its progress. If no worker is left to run it (the server stopped),
    take it back once its heartbeat is stale and run it here; Ctrl-C cancels it."""
    from rich.console import Console

    warehouse = stores.settings.resolved_warehouse_url
    try:
        with Console(stderr=True).status(f"job {job_id} queued") as status:
            while True:
                job = jobs.get_job(stores.sessions, job_id)
                if job.finished:
                    return job
                status.update(f"job {job_id} {job.status} {job.progress:.0%} {job.note}")
                if live_worker(stores.sessions, warehouse) is None:
                    if job.status == jobs.RUNNING:  # its worker died: queued again once it is stale
                        jobs.requeue_stale(stores.sessions, STALE_AFTER)
                    elif job.status == jobs.QUEUED:
                        status.stop()
                        JobRunner(stores, holds_warehouse=False).run_claimed(job_id)
                        continue
                time.sleep(poll_s)
    except KeyboardInterrupt:
        jobs.cancel(stores.sessions, actor, job_id)
        typer.get_text_stream("stderr").write(f"job {job_id} cancelled\n")
        raise typer.Exit(130) from None


class _ThreadStreams(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while a ``cli`` job runs: the job thread's writes go to its buffer,
    every other thread's (the server's log) to the real stream."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer: io.StringIO | None = getattr(self.local, "buffer", None)
        return (buffer or self.real).write(text)

    def flush(self) -> None:
        if getattr(self.local, "buffer", None) is None:
            self.real.flush()

    def isatty(self) -> bool:
        return getattr(self.local, "buffer", None) is None and self.real.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


_streams_lock = threading.Lock()


@contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    with _streams_lock:
        for name in ("stdout", "stderr"):
            if not isinstance(getattr(sys, name), _ThreadStreams):
                setattr(sys, name, _ThreadStreams(getattr(sys, name)))
    out, err = io.StringIO(), io.StringIO()
    routers: list[_ThreadStreams] = [sys.stdout, sys.stderr]  # type: ignore[list-item]
    routers[0].local.buffer, routers[1].local.buffer = out, err
    try:
        yield out, err
    finally:
        routers[0].local.buffer = routers[1].local.buffer = None


def run_command(app: Callable[..., Any], stores: Stores, params: dict[str, Any]) -> dict[str, Any]:
    """The ``cli`` job: run ``tagora ARGV`` on the worker's stores; its output and exit code are the
    result. A command that fails is a finished job with its exit code, not one to try again."""
    argv = [str(a) for a in params.get("argv", [])]
    token = _job_stores.set(stores)
    try:
        with _captured() as (out, err):
            try:
                code = app(argv, prog_name="tagora", standalone_mode=False)
                code = code if isinstance(code, int) else 0
            except ClickException as exc:
                exc.show(file=err)
                code = exc.exit_code
            except typer.Abort:
                err.write("Aborted.\n")
                code = 1
            except (jobs.JobCancelled, jobs.JobLost):
                raise
            except Exception:
                err.write(traceback.format_exc())
                code = 1
    finally:
        _job_stores.reset(token)
    stderr = err.getvalue()
    result = {"exit_code": code, "stdout": out.getvalue(), "stderr": stderr}
    if code:
        lines = stderr.strip().splitlines() or [f"exit code {code}"]
        raise jobs.JobFailed(lines[-1], result)
    return result


def register(app: Callable[..., Any]) -> None:
    """Make this process run ``cli`` jobs with the ``tagora`` command ``app``."""
    jobs.register(CLI_KIND, command_kind(app))


def command_kind(app: Callable[..., Any]) -> jobs.JobFunction:
    """The ``cli`` job kind for the ``tagora`` command ``app`` (registered by the command itself)."""

    def run(
        stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
    ) -> dict[str, Any]:
        progress(0.0, "tagora " + " ".join(str(a) for a in params.get("argv", [])))
        return run_command(app, stores, params)

    return run
