"""Cross-area calls go through ``facade`` (and pydantic ``schemas``); the console may also call ``logic``."""

from __future__ import annotations

import ast
from pathlib import Path

import tagora

SRC = Path(tagora.__file__).parent
KERNEL = {"core", "settings"}
PUBLIC = {"facade", "schemas"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return [n for n in names if n.startswith("tagora.")]


def boundary_violations() -> list[str]:
    bad = []
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).parts
        if len(parts) < 2:
            continue  # top-level wiring (cli.py, app.py) may assemble every area
        area = parts[0]
        allowed = PUBLIC | ({"logic"} if area == "console" else set())
        for name in _imports(path):
            target = name.split(".")
            other = target[1]
            if other == area or other in KERNEL or len(target) < 3:
                continue
            if area == "core":
                bad.append(f"{path.relative_to(SRC)}: the kernel imports area {name}")
            elif target[2] not in allowed:
                bad.append(f"{path.relative_to(SRC)}: imports {name}")
    return bad


def test_areas_only_call_each_other_through_their_facades() -> None:
    assert boundary_violations() == []
