"""``tagora jobs``: list, show and cancel jobs, see and change the schedules; bad input is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tagora.cli import app
from tests.conftest import run_cli as run


def test_jobs_are_listed_shown_and_cancelled_from_the_cli(cli_home: Path) -> None:
    schedules = json.loads(run("jobs", "schedules", "--json"))
    assert {s["name"] for s in schedules} == {"tags.compute", "recs.train", "models.publish"}
    changed = json.loads(run("jobs", "schedule", "tags.compute", "--cron", "0 */6 * * *", "--json"))
    assert changed["cron"] == "0 */6 * * *" and changed["enabled"] is True
    assert json.loads(run("jobs", "list", "--json")) == []

    out = CliRunner().invoke(app, ["worker", "--once", "--force"], input=None)
    assert out.exit_code == 0, out.output  # an empty shop: every scheduled job runs and succeeds
    listed = json.loads(run("jobs", "list", "--json"))
    assert {j["kind"] for j in listed} >= {"tags.compute", "recs.train", "models.publish"}
    first = listed[-1]
    shown = json.loads(run("jobs", "show", str(first["id"]), "--json"))
    assert shown["id"] == first["id"] and shown["status"] in ("succeeded", "failed")
    again = CliRunner().invoke(app, ["jobs", "cancel", str(first["id"])])
    assert again.exit_code == 2 and "already" in again.output


def test_bad_input_to_jobs_commands_is_a_clear_error(cli_home: Path) -> None:
    runner = CliRunner()
    bad_cron = runner.invoke(app, ["jobs", "schedule", "tags.compute", "--cron", "nightly"])
    assert bad_cron.exit_code == 2 and "cron" in bad_cron.output and "Traceback" not in bad_cron.output
    unknown = runner.invoke(app, ["jobs", "schedule", "nope", "--disable"])
    assert unknown.exit_code == 2 and "not found" in unknown.output
    status = runner.invoke(app, ["jobs", "list", "--status", "done"])
    assert status.exit_code == 2 and "status must be one of" in status.output
    missing = runner.invoke(app, ["jobs", "show", "404", "--json"])
    assert missing.exit_code == 2 and "not found" in missing.output
