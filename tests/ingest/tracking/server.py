"""A real ``uvicorn`` Tagora server in a subprocess, that a test can start, SIGKILL and restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest.tracking import logic
from tagora.settings import Settings
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.tmp_path = tmp_path
        self.settings: Settings = make_settings(tmp_path / "home")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TAGORA_HOME": str(self.settings.home),
            "TAGORA_ENV": "test",
            "TAGORA_SECRET_KEY": self.settings.secret_key.get_secret_value(),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = tmp_path / "server.log"
        self._log: IO[bytes] = self.log_path.open("ab")

    def create_write_key(self) -> str:
        """Before the first start: DuckDB allows one process, so the test closes its stores first."""
        stores = open_stores(self.settings)
        try:
            return logic.create_write_key(stores.sessions, CLI_OPERATOR, "test")
        finally:
            stores.close()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "--factory", "tagora.app:create_app", "--host", "127.0.0.1",
                "--port", str(self.port), "--log-level", "warning"]  # fmt: skip

    def start(self, timeout: float = 180) -> None:
        self.proc = subprocess.Popen(
            self.command(), cwd=self.tmp_path, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "the server did not start:\n" + self.log_path.read_text(errors="replace")
                )
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None

    def close(self) -> None:
        self.stop()
        self._log.close()

    def open_stores(self) -> Stores:
        """The stores, read by the test once the server has stopped."""
        return open_stores(self.settings)


class Gateway(Server):
    """``tagora tracking serve``: the /v1 API alone, in worker processes, beside a ``Server``."""

    def __init__(self, tmp_path: Path, workers: int = 2, **env: str) -> None:
        super().__init__(tmp_path, **env)
        self.workers = workers

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tagora.cli", "tracking", "serve", "--port", str(self.port),
                "--workers", str(self.workers)]  # fmt: skip
