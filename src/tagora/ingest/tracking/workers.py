"""Worker processes that each accept on a socket of their own (``SO_REUSEPORT``), under one supervisor.

uvicorn's ``--workers`` shares one listening socket among its workers: whichever worker wakes first
accepts a whole burst of new connections, and tracking clients keep their connections alive, so one
worker can end up serving every client while the other cores idle (seen here: 8 keep-alive clients on
one of two workers, 1.0 of 2 cores busy). With a socket per worker, the kernel spreads new connections
over the workers by a hash of each connection's addresses.

The supervisor holds the port with a socket that is bound but never listens (it takes no connections)
so a restarted worker gets it back, restarts a worker that dies, and stops them all on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
STARTUP_FAILURE = 3  # uvicorn's exit code when the application could not start
RESTART_PAUSE_S = 1.0


def listening(port: int) -> int:
    """How many IPv4 TCP sockets listen on ``port`` (Linux ``/proc/net/tcp``, state 0A): one per worker
    once every worker has started."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(1 for r in rows if r[1].endswith(f":{port:04X}") and r[3] == "0A")


def _socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = _socket(host, port)
    sock.listen(options.pop("backlog", 2048))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, workers=1, **options))
    server.run(sockets=[sock])
    sys.exit(0 if server.started else STARTUP_FAILURE)


def run_workers(app: str, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve ``app`` (an import string, as uvicorn takes it) from ``workers`` processes until signalled."""
    holder = _socket(host, port)  # fails at once, and clearly, when the port is taken
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(app, host, port, dict(options)), daemon=False)
        process.start()
        return process

    def stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = [start() for _ in range(workers)]
    started = [time.monotonic()] * workers
    try:
        while not stopping.wait(0.2):
            for i, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("tracking gateway: a worker could not start; stopping")
                    stopping.set()
                    break
                log.warning(
                    "tracking gateway: worker %s exited (%s); restarting", process.pid, process.exitcode
                )
                time.sleep(max(0.0, RESTART_PAUSE_S - (time.monotonic() - started[i])))  # no restart storm
                processes[i], started[i] = start(), time.monotonic()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn finishes its requests (the inbox answers what it holds)
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
        holder.close()
    if any(p.exitcode == STARTUP_FAILURE for p in processes):
        raise SystemExit(STARTUP_FAILURE)
