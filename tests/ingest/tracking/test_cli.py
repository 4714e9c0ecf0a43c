"""``tagora tracking keys ...`` and ``tagora tracking load`` on real stores."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tagora.cli import app
from tagora.core.clock import utcnow
from tagora.core.stores import open_stores
from tagora.ingest.tracking import logic
from tagora.settings import get_settings
from tests.conftest import run_cli as run


def test_a_write_key_made_on_the_command_line_is_accepted_and_the_cli_loads_the_inbox(cli_home: Path) -> None:
    key = json.loads(run("tracking", "keys", "create", "shop", "--json"))["write_key"]
    assert [k["name"] for k in json.loads(run("tracking", "keys", "list", "--json"))] == ["shop"]
    stores = open_stores(get_settings())
    try:
        key_id = logic.check_write_key(stores.sessions, key)
        events: list[object] = [
            {"type": "track", "userId": "u", "event": "E", "messageId": f"m{i}"} for i in range(3)
        ]
        events.append({"type": "track", "event": "E", "messageId": "no-user"})
        logic.receive(stores, key_id, None, events, None, utcnow(), None)
    finally:
        stores.close()
    assert json.loads(run("tracking", "load", "--json"))["loaded"] == 3
    assert json.loads(run("tracking", "load", "--keep-days", "1", "--json"))["loaded"] == 0
    assert json.loads(run("stats", "--json"))["events"] == 3
    [letter] = json.loads(run("tracking", "dead-letters", "--json"))
    assert (letter["message_id"], letter["field"]) == ("no-user", "userId")
    assert "no-user" in run("tracking", "dead-letters")
    run("tracking", "keys", "revoke", "shop")
    duplicate = CliRunner().invoke(app, ["tracking", "keys", "create", "shop"])
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
