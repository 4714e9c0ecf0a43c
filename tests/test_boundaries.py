"""Cross-area calls go through ``facade`` (and pydantic ``schemas``); the console may also call ``logic``.

Every import counts — at the top of a module, inside a function, absolute or relative — and areas may
not depend on each other in a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import tagora

SRC = Path(tagora.__file__).parent
KERNEL = {"core", "settings"}
PUBLIC = {"facade", "schemas"}

# Cycles that exist today and are to be taken apart (issue 20, item 20): identity moves a merged person's
# records through profiles, which reads identities; tags' reports ask audiences which segments read a tag.
# The test fails on any other cycle, and on these once they are gone (so this list only shrinks).
KNOWN_CYCLES = {frozenset({"identity", "profiles"}), frozenset({"audiences", "tags"})}


def tree_sources() -> dict[Path, str]:
    return {path.relative_to(SRC): path.read_text(encoding="utf-8") for path in SRC.rglob("*.py")}


def _imports(relative: Path, source: str) -> list[str]:
    """Every ``tagora.*`` name the module imports, wherever the import stands; relative ones resolved."""
    module = ["tagora", *relative.with_suffix("").parts]
    package = module[:-1]  # the package a relative import starts from (for __init__, the package itself)
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append(target)
            names += [f"{target}.{a.name}" for a in node.names]
    return [n for n in names if n.startswith("tagora.")]


def _area_imports(sources: Mapping[Path, str]) -> list[tuple[Path, str, list[str]]]:
    """(module, its area, the names it imports from other areas) for every module inside an area."""
    out = []
    for relative, source in sources.items():
        if len(relative.parts) < 2:
            continue  # top-level wiring (cli.py, app.py) may assemble every area
        area = relative.parts[0]
        others = [n for n in _imports(relative, source) if len(n.split(".")) >= 3]
        out.append((relative, area, [n for n in others if n.split(".")[1] not in (area, *KERNEL)]))
    return out


def boundary_violations(sources: Mapping[Path, str]) -> list[str]:
    bad = []
    for relative, area, names in _area_imports(sources):
        allowed = PUBLIC | ({"logic"} if area == "console" else set())
        for name in names:
            if area == "core":
                bad.append(f"{relative}: the kernel imports area {name}")
            elif name.split(".")[2] not in allowed:
                bad.append(f"{relative}: imports {name}")
    return bad


def area_cycles(sources: Mapping[Path, str]) -> set[frozenset[str]]:
    """The groups of areas that depend on each other in a circle (strongly connected, two or more)."""
    edges: dict[str, set[str]] = {}
    for _relative, area, names in _area_imports(sources):
        edges.setdefault(area, set()).update(n.split(".")[1] for n in names)
    reach = {a: set(targets) for a, targets in edges.items()}
    changed = True
    while changed:
        changed = False
        for targets in reach.values():
            more = set().union(*(reach.get(t, set()) for t in targets)) - targets
            if more:
                targets |= more
                changed = True
    return {
        frozenset({a} | {b for b in reach[a] if a in reach.get(b, set())}) for a in reach if a in reach[a]
    }


def test_areas_only_call_each_other_through_their_facades() -> None:
    assert boundary_violations(tree_sources()) == []


def test_areas_depend_on_each_other_in_no_new_circle() -> None:
    assert area_cycles(tree_sources()) == KNOWN_CYCLES


def test_a_planted_import_inside_a_function_is_found() -> None:
    planted = {Path("tags/logic.py"): "def f():\n    from tagora.audiences.logic import segments_using\n"}
    assert "tags/logic.py: imports tagora.audiences.logic" in boundary_violations(planted)


def test_a_planted_relative_import_of_another_areas_internals_is_found() -> None:
    planted = {Path("recs/api.py"): "from ..scoring import models\n"}
    assert boundary_violations(planted) == ["recs/api.py: imports tagora.scoring.models"]


def test_a_planted_cycle_is_found_even_through_facades() -> None:
    planted = {
        Path("alpha/logic.py"): "from tagora.beta import facade\n",
        Path("beta/logic.py"): "def g():\n    from tagora.gamma import facade\n",
        Path("gamma/facade.py"): "from tagora.alpha.facade import f\n",
        Path("delta/logic.py"): "from tagora.alpha import facade\n",
    }
    assert boundary_violations(planted) == []
    assert area_cycles(planted) == {frozenset({"alpha", "beta", "gamma"})}
