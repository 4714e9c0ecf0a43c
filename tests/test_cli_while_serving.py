"""The CLI works while ``tagora serve`` runs on the same home: the server holds the embedded warehouse (DuckDB
admits one read-write process), so commands that need it run as jobs on the server's worker and print
what they would have printed; commands that need only the metadata database run in their own process.
Everything here is a real subprocess on a real port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import need

CLI = [sys.executable, "-m", "tagora.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The home's settings; its metadata database on SQLite, or on a fresh PostgreSQL schema."""
    values = {
        **os.environ,
        "TAGORA_HOME": str(tmp_path / "home"),
        "TAGORA_ENV": "test",
        "TAGORA_SECRET_KEY": "serving-test-secret-0123456789-abcdef",
    }
    if request.param == "sqlite":
        yield values
        return
    url = os.environ.get("TAGORA_TEST_POSTGRES_URL", "")
    need(bool(url), "TAGORA_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"  # generated here, never user input
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {**values, "TAGORA_DATABASE_URL": f"{url}?options=-csearch_path%3D{schema}"}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def tagora(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    done = tagora(env, tmp_path, "demo", "--customers", "150", "--no-serve")
    assert done.returncode == 0, done.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.3)
    yield proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_cli_commands_succeed_while_the_server_holds_the_warehouse(
    server: subprocess.Popen[str], env: dict[str, str], tmp_path: Path
) -> None:
    # createuser needs only the metadata database: it runs here, beside the server
    made = tagora(
        env, tmp_path, "createuser", "alice", "--role", "analyst", "--password", "a-long-passphrase-9"
    )
    assert made.returncode == 0, made.stderr
    assert "running Tagora server" not in made.stderr

    (tmp_path / "people.csv").write_text(
        "customer_key,name,phone\nS-1,Ann Lee,+8613800000001\nS-2,Bo Wu,+8613800000002\n", encoding="utf-8"
    )
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_key,ordered_at,sku,quantity,unit_price\n"
        "X-1,S-1,2026-10-01T10:00:00+08:00,P000001,2,289.00\n"
        "X-2,S-2,2026-10-02T11:00:00+08:00,P000001,1,289.00\n",
        encoding="utf-8",
    )
    before = json.loads(tagora(env, tmp_path, "stats", "--json").stdout)
    people = tagora(env, tmp_path, "import", "customers", "people.csv", "--json")  # relative paths
    assert people.returncode == 0, people.stderr
    assert "running Tagora server" in people.stderr  # the server's worker ran it
    orders = tagora(env, tmp_path, "import", "orders", "orders.csv", "--json")
    assert orders.returncode == 0, orders.stderr

    computed = tagora(env, tmp_path, "tags", "compute")
    assert computed.returncode == 0, computed.stderr

    rule = 'lifecycle = "active" or lifecycle = "loyal" or lifecycle = "new"'
    counted = tagora(env, tmp_path, "segments", "count", rule, "--json")
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout)["count"] > 0

    after = json.loads(tagora(env, tmp_path, "stats", "--json").stdout)
    assert before["customers"] == 150 and after["customers"] == 152  # two imported while serving
    assert after["orders"] == before["orders"] + 2

    # a file it writes lands where this command was run, not in the server's directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exported = tagora(env, elsewhere, "customers", "export", "-o", "people-out.csv")
    assert exported.returncode == 0, exported.stderr
    assert (elsewhere / "people-out.csv").read_text(encoding="utf-8").count("\n") == 153  # header + 152
    assert not (tmp_path / "people-out.csv").exists()

    # an error in a handed-over command is the command's own error and exit code
    unknown = tagora(env, tmp_path, "customers", "show", "NOPE", "--json")
    assert unknown.returncode == 2 and "not found" in unknown.stderr + unknown.stdout

    listed = json.loads(tagora(env, tmp_path, "jobs", "list", "--kind", "cli", "--json").stdout)
    assert len(listed) == 8 and all(j["created_by"] == "cli" for j in listed)  # stats ... customers show
    assert [j["status"] for j in listed].count("failed") == 1  # customers show NOPE
    assert server.poll() is None
