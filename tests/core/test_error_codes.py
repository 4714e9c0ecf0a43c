"""One failure, one status: every error code carries its status, and no call gives it another."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import tagora
from tagora.core.errors import AppError, CoreErrorCode, ErrorCode

SRC = Path(tagora.__file__).parent


def _enums() -> dict[str, type[ErrorCode]]:
    """Every ErrorCode enum of the package, by class name (imported from the modules that define them)."""
    found: dict[str, type[ErrorCode]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef) and "ErrorCode" in n.name]
        if names:
            module = importlib.import_module(
                ".".join(("tagora", *path.relative_to(SRC).with_suffix("").parts))
            )
            for name in names:
                enum = getattr(module, name)
                if isinstance(enum, type) and issubclass(enum, ErrorCode) and enum is not ErrorCode:
                    found[name] = enum
    return found


def status_mismatches() -> list[str]:
    enums = _enums()
    bad = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AppError"):
                continue
            code = node.args[0] if node.args else None
            status = node.args[2] if len(node.args) > 2 else None
            status = next((k.value for k in node.keywords if k.arg == "status"), status)
            if not (isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name)):
                continue
            enum = enums.get(code.value.id)
            if enum is None or not isinstance(status, ast.Constant) or status.value is None:
                continue
            own = enum[code.attr].status
            if status.value != own:
                where = f"{path.relative_to(SRC)}:{node.lineno}"
                bad.append(f"{where}: {code.value.id}.{code.attr} is {own}, the call says {status.value}")
    return bad


def test_every_error_code_has_one_status_wherever_it_is_raised() -> None:
    assert len(_enums()) >= 8
    assert status_mismatches() == []


def test_an_error_takes_its_codes_status_when_the_call_names_none() -> None:
    assert AppError(CoreErrorCode.NOT_FOUND, "x").status == 404
    assert AppError(CoreErrorCode.INVALID_INPUT, "x").to_dict()["error"]["code"] == "invalid_input"
    assert AppError("plain_string_code", "x").status == 400


def test_codes_compare_and_print_as_their_text() -> None:
    assert CoreErrorCode.CONFLICT == "conflict"
    assert str(CoreErrorCode.CONFLICT) == "conflict"
    assert f"{CoreErrorCode.CONFLICT}" == "conflict"
    assert CoreErrorCode("conflict") is CoreErrorCode.CONFLICT
