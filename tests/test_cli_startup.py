"""``tagora --help`` and light commands start fast: the CLI loads no heavy library until a command needs it.

Not a timed test (times vary with the machine's load): benchmarks/cli_startup.py measures; this checks
what is loaded, which is what the time depends on.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Each takes from 0.1 to 3 s to import; a command that needs one imports it inside the command.
HEAVY = (
    "sklearn",
    "implicit",
    "ibis",
    "pandas",
    "pyarrow",
    "duckdb",
    "scipy",
    "numpy",
    "alembic",
    "fastapi",
    "sqlalchemy",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import tagora.cli") == []


def test_help_builds_every_command_without_loading_a_heavy_library() -> None:
    # Building the help evaluates every command's parameters, which an import alone does not.
    run = """
from tagora.cli import app
groups = [group.name for group in app.registered_groups]
assert len(groups) >= 9, groups
for argv in [["--help"], *[[name, "--help"] for name in groups]]:
    try:
        app(argv, prog_name="tagora")
    except SystemExit as exit:
        assert exit.code == 0, (argv, exit.code)
"""
    assert _loaded_after(run) == []


def test_the_cli_offers_every_lifecycle_verb_of_the_tag_logic() -> None:
    from tagora.tags import cli, logic

    assert set(cli.LIFECYCLE_VERBS) == set(logic.TRANSITIONS)
